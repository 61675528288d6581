"""`kyso ledger seal-head [--cover-existing]` as an administrator runs it on a ledger written before sealing and
covering (issue 9, item 10): the seal key on a SoftHSM token of the home ([service] receipt_token, PIN from
KYSO_RECEIPT_PIN), on SQLite and PostgreSQL, with its exit codes."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import datetime

from sqlalchemy import select, text

from ledger import append, import_agencies_csv, open_store, verify_chain
from ledger.models import SignedHeadRow
from tests.support.ledger import DEPARTMENT, ROSTER_CSV, make_entry


def _kyso(home, database_url, *args, pin="123456"):
    env = {k: v for k, v in os.environ.items() if k != "SOFTHSM2_CONF"}
    env.update(KYSO_HOME=str(home), KYSO_DATABASE_URL=database_url, KYSO_RECEIPT_PIN=pin)
    return subprocess.run([sys.executable, "-m", "kyso", "ledger", *args], env=env, capture_output=True, text=True,
                          timeout=120, stdin=subprocess.DEVNULL)


def _home_with_seal_token(tmp_path, softhsm, agency_ec_token):
    """A kyso home whose own token directory holds a copy of the test seal token."""
    home = tmp_path / "home"
    (home / "tokens").mkdir(parents=True)
    folder = softhsm.directory.token_folder(agency_ec_token.token.label)
    shutil.copytree(folder, home / "tokens" / folder.name)
    (home / "kyso.toml").write_text(f'[service]\nreceipt_token = "{agency_ec_token.token.label}"\n', encoding="utf-8")
    (home / "seal.crt").write_bytes(agency_ec_token.certificate_der)
    return home


def test_seal_head_covers_old_rows_and_signs_the_head_once(tmp_path, database_url, softhsm, agency_ec_token):
    home = _home_with_seal_token(tmp_path, softhsm, agency_ec_token)
    store = open_store(database_url)
    import_agencies_csv(store, ROSTER_CSV)
    for n in range(1, 4):  # records appended before the service had a seal
        append(store, make_entry(n=n))
    with store.engine.begin() as conn:  # a registration from before migration 0004: covered by no record
        conn.execute(text("INSERT INTO ledger_documents (id, agency_code, direction, dated_at, year, series, doc_type, "
                          "secret, electronic, registered_at) VALUES (1, :a, 'incoming', :t, 2025, 'incoming', "
                          "'Công văn', :f, :f, :t)"), {"a": DEPARTMENT, "t": datetime(2025, 8, 1, 3), "f": False})
    store.dispose()

    refused = _kyso(home, database_url, "seal-head")
    assert refused.returncode == 1, refused.stderr
    assert refused.stderr.splitlines() == [
        "Không ký: sổ cái không nguyên vẹn / not sealed: the ledger is not intact",
        "  #0 inserted: văn bản 1 không có bản ghi nào trong chuỗi: được thêm ngoài dịch vụ / document 1 is in no "
        "record of the chain: it was added outside the service",
        "  (--cover-existing ghi nhận các dòng này / covers these rows)",
    ]

    done = _kyso(home, database_url, "seal-head", "--cover-existing")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "Đã ghi nhận / covered: 1 document(s), 0 number(s), 0 signed file(s)"
    assert lines[1].startswith("Đã ký đầu chuỗi / sealed head #4 ")

    again = _kyso(home, database_url, "seal-head")
    assert (again.returncode, again.stdout.strip()) == (0, "Đầu chuỗi #4 đã được ký / head #4 is already sealed")

    checked = _kyso(home, database_url, "verify", "--lang", "en", "--head-certificate", str(home / "seal.crt"))
    assert (checked.returncode, checked.stdout.split(":")[0]) == (0, "Ledger intact")
    store = open_store(database_url)
    with store.transaction() as session:
        assert list(session.scalars(select(SignedHeadRow.seq))) == [4]
    # A record appended after, without the seal, is reported as not appended by the service.
    append(store, make_entry(n=9))
    report = verify_chain(store, head_keys=[agency_ec_token.certificate.public_key])
    assert [(p.kind.value, p.seq, p.en) for p in report.problems] == [
        ("inserted", 5, "record 5 is not covered by a signed head: the service did not append it")]
    store.dispose()


def test_seal_head_refuses_a_broken_chain_and_a_home_without_seal(tmp_path, database_url, softhsm, agency_ec_token):
    home = _home_with_seal_token(tmp_path, softhsm, agency_ec_token)
    store = open_store(database_url)
    import_agencies_csv(store, ROSTER_CSV)
    for n in range(1, 4):
        append(store, make_entry(n=n))
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE ledger_records SET signer_name = 'Người khác' WHERE seq = 2"))
    store.dispose()

    refused = _kyso(home, database_url, "seal-head", "--cover-existing")
    assert refused.returncode == 1
    assert refused.stderr.splitlines()[0] == "Không ký: sổ cái không nguyên vẹn / not sealed: the ledger is not intact"
    assert refused.stderr.splitlines()[1].startswith("  #2 changed: ")
    store = open_store(database_url)
    with store.transaction() as session:
        assert session.scalar(select(SignedHeadRow.seq)) is None  # nothing signed
    store.dispose()

    (home / "kyso.toml").write_text("", encoding="utf-8")
    unconfigured = _kyso(home, database_url, "seal-head")
    assert unconfigured.returncode == 78
    assert ("[service] receipt_token is not configured: no seal key to sign the head" in unconfigured.stderr)
