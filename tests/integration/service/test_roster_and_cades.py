"""Roster CSV import through the API (all rows or none, every problem named), CAdES detached validation,
report parameters, and the `kyso serve` account commands."""

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from kyso.config import Home
from signer import sign_cades

pytestmark = pytest.mark.integration

AGENCIES = """code,legacy_code,name,level,parent_code,valid_from,valid_until
H26,000.00.00.H26,Ủy ban nhân dân Thành phố Hà Nội,city,,2008-08-01,
H26.20,000.20.00.H26,Sở Tài chính,city,H26,2008-08-01,
"""
OFFICIALS = """agency_code,full_name,title,identifiers,certificate_serial,certificate_not_before,certificate_not_after
H26.20,Lê Thị Mai,Giám đốc,CCCD:001190022222,1a2b3c,2026-01-01T00:00:00+07:00,2030-01-01T00:00:00+07:00
"""


def test_roster_import_all_or_nothing(service_world_on):
    api = service_world_on.logged_in("admin")  # the agencies have no parent on the roster: an administrator
    bad = AGENCIES + "H26.21,,Sở Xây dựng,galaxy,H26,2008-08-01,\n"
    refused = api.post("/api/v1/roster/agencies", data=bad.encode(), content_type="text/csv",
                       headers={"X-Filename": "co-quan.csv"})
    assert refused.status_code == 400
    problems = refused.json["detail"]["problems"]
    assert [(p["line"], p["column"]) for p in problems] == [(4, "level")]
    assert refused.json["message"].startswith("co-quan.csv has 1 error(s), nothing stored")
    imported = api.post("/api/v1/roster/agencies", data={"file": (io.BytesIO(AGENCIES.encode()), "co-quan.csv")},
                        content_type="multipart/form-data")
    assert imported.json == {"imported": 2, "agencies": ["H26", "H26.20"]}
    officials = api.post("/api/v1/roster/officials", data=OFFICIALS.encode(), content_type="text/csv")
    assert officials.json == {"imported": 1}
    assert api.post("/api/v1/roster/agencies", data=b"\xff\xfe\x00", content_type="text/csv").json["message"] == \
        "the CSV file must be UTF-8 encoded"
    reader = service_world_on.api("reader")
    assert reader.post("/api/v1/roster/agencies", data=AGENCIES.encode(), content_type="text/csv").status_code == 403
    for query, message in (("", "query parameter 'month' (YYYY-MM) is required"),
                           ("?month=2026-13", "invalid month '2026-13' (expected YYYY-MM)"),
                           ("?month=2026-11&format=pdf", "field 'format' must be one of: json, csv, xlsx")):
        answer = reader.get("/api/v1/reports/monthly" + query)
        assert (answer.status_code, answer.json["message"]) == (400, message)


def test_cades_detached_validation(signing_world, pki):
    content = "Tờ trình số 12/TTr-SNV về kế hoạch chuyển đổi số".encode()
    p7s = sign_cades(content, key=pki.agency_ec.key, certificate=pki.agency_ec.certificate, chain=pki.agency_ec.chain)
    api = signing_world.api("validator")
    judged = api.post("/api/v1/validations", content_type="multipart/form-data",
                      data={"file": (io.BytesIO(p7s), "to-trinh.docx.p7s"), "content": (io.BytesIO(content), "to-trinh.docx")})
    report = judged.json["files"][0]
    assert (report["path"], report["signatures"][0]["kind"]) == ("to-trinh.docx.p7s", "agency")
    assert report["signatures"][0]["signer"]["common_name"] == "UBND Phường Hoàn Kiếm"
    tampered = api.post("/api/v1/validations", content_type="multipart/form-data",
                        data={"file": (io.BytesIO(p7s), "x.p7s"), "content": (io.BytesIO(content + b"!"), "x")})
    assert tampered.json["files"][0]["indication"] == "TOTAL_FAILED"
    alone = api.post("/api/v1/validations", content_type="multipart/form-data",
                     data={"file": (io.BytesIO(p7s), "x.p7s")})
    assert (alone.status_code, alone.json["message"]) == (
        400, "a .p7s signature needs the signed file in multipart field 'content'")


def kyso(home: Path, *args, env=None):
    environment = {k: v for k, v in os.environ.items() if not k.startswith("KYSO_")}
    environment.update(KYSO_HOME=str(home), **(env or {}))
    return subprocess.run([str(Path(sys.executable).with_name("kyso")), *args], env=environment,
                          capture_output=True, text=True, timeout=120)


def _roster_official(home: Path) -> int:
    """Lê Thị Mai of OFFICIALS on the roster of the home's database; her roster id."""
    from ledger import import_agencies_csv, import_officials_csv, open_store
    from ledger.models import Official

    store = open_store(Home.locate(home).database_url())
    import_agencies_csv(store, AGENCIES)
    import_officials_csv(store, OFFICIALS)
    with store.transaction() as session:
        official_id = session.scalar(select(Official.id).where(Official.person_id == "CCCD:001190022222"))
    store.dispose()
    return official_id


def test_serve_account_commands(tmp_path):
    home = tmp_path / "home"
    created = kyso(home, "serve", "add-user", "vanthu", "--role", "clerk", "--password-env", "PW",
                   env={"PW": "mat-khau-van-thu"})
    assert (created.returncode, created.stdout.strip()) == (0, "user vanthu created (clerk)")
    again = kyso(home, "serve", "add-user", "vanthu", "--role", "clerk", "--password-env", "PW",
                 env={"PW": "mat-khau-van-thu"})
    assert again.returncode == 1 and "user vanthu already exists" in again.stderr
    short = kyso(home, "serve", "add-user", "ngan", "--role", "clerk", "--password-env", "PW", env={"PW": "short"})
    assert short.returncode == 1 and "password must have at least 10 characters" in short.stderr
    # An official's account linked to their roster entry (their own stored signature image).
    unknown = kyso(home, "serve", "add-user", "lanhdao", "--role", "official", "--official-id", "7",
                   "--password-env", "PW", env={"PW": "mat-khau-lanh-dao"})
    assert unknown.returncode == 1 and "no official 7 on the roster" in unknown.stderr
    official_id = _roster_official(home)
    linked = kyso(home, "serve", "add-user", "lanhdao", "--role", "official", "--official-id", str(official_id),
                  "--password-env", "PW", env={"PW": "mat-khau-lanh-dao"})
    assert (linked.returncode, linked.stdout.strip()) == (0, "user lanhdao created (official)")
    from service.tables import User

    engine = create_engine(Home.locate(home).database_url())
    with Session(engine) as db:
        assert db.scalar(select(User.official_id).where(User.username == "lanhdao")) == official_id
    engine.dispose()
    key = kyso(home, "serve", "add-api-key", "truc-lien-thong", "--scope", "validate")
    assert key.returncode == 0 and key.stdout.startswith("kyso_")
    production = kyso(home, "serve", "--production")
    assert production.returncode == 64 and "needs [service] secret_key" in production.stderr
    (home / "kyso.toml").write_text("[service]\nmax_upload = 3\n", encoding="utf-8")
    wrong = kyso(home, "serve", "migrate")
    assert wrong.returncode == 78 and "[service]: unknown key(s) max_upload; known:" in wrong.stderr


def test_kyso_serve_production_runs_gunicorn_workers(tmp_path):
    """The Dockerfile's command: `kyso serve --production` migrates, then execs gunicorn with the workers."""
    import signal
    import time

    import requests

    from tests.support.servers import free_port

    home, port = tmp_path / "home", free_port()
    environment = {k: v for k, v in os.environ.items() if not k.startswith("KYSO_")}
    environment.update(KYSO_HOME=str(home), KYSO_SERVICE_SECRET_KEY="p" * 64)
    process = subprocess.Popen([str(Path(sys.executable).with_name("kyso")), "serve", "--production", "--port",
                                str(port), "--workers", "2"], env=environment, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
    try:
        for _ in range(120):
            try:
                health = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=30)
                break
            except requests.RequestException:
                assert process.poll() is None, process.stderr.read().decode()
                time.sleep(0.25)
        assert health.json()["status"] == "ok"
        children = Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()
        assert len(children) == 2  # the process became the gunicorn master of two workers
        assert "gunicorn" in Path(f"/proc/{process.pid}/cmdline").read_bytes().decode(errors="replace")
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
