"""`kyso report monthly` and `kyso ledger ...` as a user runs them, on SQLite and PostgreSQL
(KYSO_DATABASE_URL), with their exit codes."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys

from openpyxl import load_workbook
from sqlalchemy import text

from ledger import open_store
from ledger.report import monthly_report


def _kyso(home, database_url, *args):
    env = dict(os.environ, KYSO_HOME=str(home), KYSO_DATABASE_URL=database_url)
    return subprocess.run([sys.executable, "-m", "kyso", *args], env=env, capture_output=True, timeout=120)


def test_report_and_ledger_commands(tmp_path, database_url):
    home = tmp_path / "home"
    bad = tmp_path / "agencies.csv"
    bad.write_text("code,name,level,valid_from\nX1,Một,city,2020-01-01\nX2,Hai,town,2020-01-01\n", encoding="utf-8")
    done = _kyso(home, database_url, "ledger", "import-agencies", str(bad))
    assert done.returncode == 65
    assert "line 3, column 3 (level): unknown level 'town'" in done.stderr.decode()
    done = _kyso(home, database_url, "ledger", "generate", "--agencies", "6", "--outgoing-per-month", "4", "--incoming-per-month", "2")
    assert done.returncode == 0, done.stderr
    assert done.stdout.decode().strip().endswith("6 agencies, 432 documents, 1246 records")

    done = _kyso(home, database_url, "report", "monthly", "--month", "2025-08", "--format", "json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    store = open_store(database_url)
    try:
        expected = monthly_report(store, "2025-08")
    finally:
        store.dispose()
    assert data == json.loads(json.dumps(expected.to_json()))
    assert data["month"] == "2025-08" and [(level["code"], len(level["agencies"])) for level in data["levels"]] == [("city", 6), ("commune", 0)]

    done = _kyso(home, database_url, "report", "monthly", "--month", "2025-08", "--format", "csv", "--lang", "en")
    rows = list(csv.DictReader(io.StringIO(done.stdout.decode())))
    assert [r["Code"] for r in rows][-2:] == ["Σ city", "Σ commune"] and len(rows) == 8
    total = expected.level("city").totals.figures
    assert rows[-2]["Outgoing"] == str(total.outgoing.count) and rows[-2]["Both signed"] == str(total.signed_valid_both.count)

    out = tmp_path / "report.xlsx"
    done = _kyso(home, database_url, "report", "monthly", "--month", "2025-08", "--format", "xlsx", "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert load_workbook(out)["Báo cáo"].max_row == 9  # header, 6 agencies, two level totals

    (home / "kyso.toml").write_text("[report]\nexpiry_days = 30\n", encoding="utf-8")
    done = _kyso(home, database_url, "report", "monthly", "--month", "2025-08")
    assert done.returncode == 78
    assert "[report]: unknown key(s) expiry_days" in done.stderr.decode()
    (home / "kyso.toml").write_text("[report]\nlang = \"en\"\n", encoding="utf-8")
    done = _kyso(home, database_url, "report", "monthly", "--month", "2025-08")
    assert done.stdout.decode().splitlines()[0] == "Digital signature report for 2025-08 (Hanoi time)"

    done = _kyso(home, database_url, "report", "monthly", "--month", "08/2025")
    assert done.returncode == 64
    assert "month must be YYYY-MM: '08/2025'" in done.stderr.decode()

    done = _kyso(home, database_url, "ledger", "verify", "--lang", "en")
    assert (done.returncode, done.stdout.decode().split(":")[0]) == (0, "Ledger intact")
    head = done.stdout.decode().split()[-2:]  # "#1246 <hash>": publish it, pass it back as an anchor
    assert head[0] == "#1246"
    done = _kyso(home, database_url, "ledger", "verify", "--anchor", f"1246:{head[1]}")
    assert done.returncode == 0
    done = _kyso(home, database_url, "ledger", "verify", "--anchor", "814:abc")
    assert done.returncode == 64
    store = open_store(database_url)
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE ledger_records SET signer_name = 'Người khác' WHERE seq = 7"))
        conn.execute(text("DELETE FROM ledger_records WHERE seq = 100"))
    store.dispose()
    done = _kyso(home, database_url, "ledger", "verify", "--lang", "en")
    assert done.returncode == 1
    lines = done.stdout.decode().splitlines()
    assert lines[0] == "LEDGER BROKEN: 2 problem(s) in 1245 records"
    assert lines[1].startswith("  #7 changed: record 7 (") and lines[2] == "  #100 missing: record 100 was deleted"
    done = _kyso(home, database_url, "ledger", "verify", "--format", "json")
    assert done.returncode == 1
    assert [(p["kind"], p["seq"]) for p in json.loads(done.stdout)["problems"]] == [("changed", 7), ("missing", 100)]
