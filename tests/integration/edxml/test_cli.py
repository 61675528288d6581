"""`kyso edxml pack`, `kyso verify X.edxml` and `kyso edxml status` as real processes, the seal key on a
SoftHSM token, the ledger in the home's SQLite database, the test PKI on loopback."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys

import pytest
from lxml import etree

from tests.support.edxml import RECIPIENT_CODE, SENDER_CODE

PIN_VARIABLE = "KYSO_TEST_EDXML_PIN"
E = "{http://www.mic.gov.vn/TBT/QCVN_102_2016}"
VIETNAM = dt.timezone(dt.timedelta(hours=7))


@pytest.fixture(scope="module")
def cli_home(softhsm, agency_ec_token, pki, issued_decision, tmp_path_factory):
    from ledger import (AgencyInfo, Direction, DocumentDraft, add_agency, link_signed_file, open_store,
                        register_document)
    import hashlib

    home = tmp_path_factory.mktemp("kyso-home")
    (home / "pki").mkdir()
    (home / "pki" / "root.crt").write_bytes(pki.root.pem)
    (home / "pki" / "gov.crt").write_bytes(pki.gov.pem)
    store = open_store(f"sqlite:///{home / 'kyso.db'}")
    add_agency(store, AgencyInfo("H26", SENDER_CODE, "Ủy ban nhân dân Thành phố Hà Nội", "city", None,
                                 dt.date(2008, 8, 1), None))
    add_agency(store, AgencyInfo("H26.12", RECIPIENT_CODE, "Sở Nội vụ Thành phố Hà Nội", "city", "H26",
                                 dt.date(2008, 8, 1), None))
    issued_at = dt.datetime.combine(issued_decision.issued_on, dt.time(9, 30), VIETNAM)
    document = register_document(store, DocumentDraft(
        agency_code="H26", direction=Direction.OUTGOING, dated_at=issued_at, doc_type="Quyết định",
        title="Về việc ban hành quy chế ký số văn bản điện tử", number=issued_decision.number, notation="QĐ-UBND"))
    link_signed_file(store, document.id, digest=hashlib.sha256(issued_decision.pdf).hexdigest(),
                     size=len(issued_decision.pdf))
    store.dispose()
    pdf = home / "quyet-dinh.pdf"
    pdf.write_bytes(issued_decision.pdf)
    env = dict(os.environ)
    env.update(softhsm.directory.environment())
    env.update({"KYSO_HOME": str(home), PIN_VARIABLE: agency_ec_token.token.user_pin})
    return {"env": env, "home": home, "document": document.id, "pdf": pdf, "token": agency_ec_token.token.label}


def _kyso(cli_home, *args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kyso", *map(str, args)], env=cli_home["env"], capture_output=True,
                          text=True, timeout=300, stdin=subprocess.DEVNULL)


def _token(cli_home):
    return ["--token", cli_home["token"], "--pin-env", PIN_VARIABLE]


@pytest.fixture(scope="module")
def packed(cli_home, tmp_path_factory):
    out = tmp_path_factory.mktemp("out") / "goi-tin.edxml"
    done = _kyso(cli_home, "edxml", "pack", "--document", cli_home["document"], "--pdf", cli_home["pdf"],
                 "--to", "H26.12", "--competence", "TM. ỦY BAN NHÂN DÂN", "-o", out, *_token(cli_home))
    assert done.returncode == 0, done.stderr
    return out, done


@pytest.mark.integration
def test_pack_writes_a_package_from_the_ledger_registration(packed, issued_decision):
    out, done = packed
    root = etree.parse(str(out)).getroot()
    on = issued_decision.issued_on.strftime("%Y/%m/%d")
    assert root.findtext(f".//{E}DocumentId") == f"H26,{on},07/QĐ-UBND"
    assert root.findtext(f".//{E}From/{E}OrganIdOld") == SENDER_CODE
    assert root.findtext(f".//{E}To/{E}OrganId") == "H26.12"
    assert root.findtext(f".//{E}Subject") == "Về việc ban hành quy chế ký số văn bản điện tử"
    assert root.findtext(f".//{E}SignerInfo/{E}Competence") == "TM. ỦY BAN NHÂN DÂN"
    assert root.findtext(f".//{E}SignerInfo/{E}FullName") == "Nguyễn Văn An"  # from the PDF's personal signature
    assert root.findtext(f".//{E}TraceHeaderList/{E}TraceHeader/{E}OrganId") == "H26"
    assert f"H26,{on},07/QĐ-UBND -> H26.12" in done.stdout


@pytest.mark.integration
def test_kyso_verify_reports_the_package_and_its_pdf(cli_home, packed):
    out, _ = packed
    done = _kyso(cli_home, "verify", out, "--format", "json", "--lang", "en")
    assert done.returncode == 0, done.stdout + done.stderr
    [file] = json.loads(done.stdout)["files"]
    assert file["indication"] == "TOTAL_PASSED"
    assert [(s["kind"], s["signer"]["common_name"]) for s in file["signatures"]] == [
        ("package", "UBND Phường Hoàn Kiếm")]
    assert [[s["kind"] for s in a["signatures"]] for a in file["attachments"]] == [["personal", "agency"]]
    text = _kyso(cli_home, "verify", out, "--lang", "vi")
    assert text.returncode == 0
    assert "chữ ký số gói tin edXML" in text.stdout


@pytest.mark.integration
def test_status_accepts_a_valid_package_and_refuses_a_tampered_one(cli_home, packed, tmp_path):
    out, _ = packed
    status = tmp_path / "trang-thai.edxml"
    done = _kyso(cli_home, "edxml", "status", out, "--agency", "H26.12", "-o", status, *_token(cli_home))
    assert done.returncode == 0, done.stderr
    root = etree.parse(str(status)).getroot()
    assert root.findtext(f".//{E}StatusCode") == "03"
    assert root.findtext(f".//{E}ResponseFor/{E}OrganId") == "H26"
    assert root.findtext(f".//{E}ResponseFor/{E}Code") == "07/QĐ-UBND"

    tampered = tmp_path / "sua.edxml"
    tree = etree.parse(str(out))
    tree.getroot().find(f".//{E}CodeNumber").text = "08"
    tampered.write_bytes(etree.tostring(tree))
    verified = _kyso(cli_home, "verify", tampered, "--format", "json")
    assert verified.returncode == 1
    assert json.loads(verified.stdout)["files"][0]["sub_indication"] == "HASH_FAILURE"
    refused = tmp_path / "tu-choi.edxml"
    done = _kyso(cli_home, "edxml", "status", tampered, "--agency", "H26.12", "-o", refused, *_token(cli_home))
    assert done.returncode == 1, done.stderr
    root = etree.parse(str(refused)).getroot()
    assert root.findtext(f".//{E}StatusCode") == "02"
    assert root.findtext(f".//{E}Description").startswith("Từ chối tiếp nhận: gói tin đã bị thay đổi sau khi ký")


@pytest.mark.integration
def test_pack_refuses_a_pdf_that_is_not_the_documents_file(cli_home, tmp_path):
    from tests.support import documents

    other = tmp_path / "khac.pdf"
    other.write_bytes(documents.sample_decision())
    out = tmp_path / "x.edxml"
    done = _kyso(cli_home, "edxml", "pack", "--document", cli_home["document"], "--pdf", other, "--to", "H26.12",
                 "-o", out, *_token(cli_home))
    assert done.returncode == 65
    assert f"this PDF is not the signed file of document {cli_home['document']}" in done.stderr
    assert not out.exists()
