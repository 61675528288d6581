"""The plugin protocol end to end with a Python WebSocket client: SignApproved then SignIssued through a
fake document system; the uploaded PDF judged by pdfsig and by `kyso verify`."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys

import pytest

from tests.support import documents
from tests.support.softhsm import PERSONAL_SUBJECT
from tests.support.vgca import JWT, SESSION

pytestmark = pytest.mark.integration

SIGNER = dict(PERSONAL_SUBJECT)["common_name"]
TITLE = dict(PERSONAL_SUBJECT)["title"]


def _decision() -> bytes:
    return documents.decision_pdf(title=TITLE.upper(), name=SIGNER)


def test_approve_then_issue_uploads_a_pdf_both_judges_accept(vgca_world, pki, tmp_path):
    import datetime as dt

    original = _decision()
    vgca_world.dms.files["qd-88.pdf"] = original
    approved = vgca_world.call("SignApproved", vgca_world.document_frame(
        "qd-88.pdf", MetaData=[{"Key": "DocumentId", "Value": "88"}, {"Key": "Step", "Value": "approve"}]))
    assert approved["Status"] == 0, approved
    assert approved["FileName"] == "signed-1-qd-88.pdf"
    assert approved["FileServer"] == f"{vgca_world.dms.origin}/stored/"
    first = vgca_world.dms.uploads[0]
    assert first["form"] == {"DocumentId": "88", "Step": "approve"}
    consent = vgca_world.consent.requests[-1]
    assert consent.certificate_kind == "personal"
    assert consent.origin == vgca_world.dms.origin
    assert hashlib.sha256(original).hexdigest() in consent.description
    assert "qd-88.pdf" in consent.description

    vgca_world.dms.files["qd-88-approved.pdf"] = first["data"]
    today = dt.datetime.now(dt.timezone(dt.timedelta(hours=7))).replace(hour=12, minute=0, second=0, microsecond=0)
    issued = vgca_world.call("SignIssued", vgca_world.document_frame(
        "qd-88-approved.pdf", DocNumber="15/QĐ-UBND", IssuedDate=today.isoformat()))
    assert issued["Status"] == 0, issued
    assert issued["DocumentNumber"] == "15/QĐ-UBND"
    assert issued["DocumentDate"].startswith(today.date().isoformat()) and issued["DocumentDate"].endswith("+07:00")
    seal_consent = vgca_world.consent.requests[-1]
    assert seal_consent.certificate_kind == "agency"
    assert "15/QĐ-UBND" in seal_consent.description and today.date().isoformat() in seal_consent.description
    final = vgca_world.dms.uploads[1]["data"]

    from tests.support.verifier import nss_database

    nss = nss_database(tmp_path, pki)
    path = tmp_path / "phat-hanh.pdf"
    path.write_bytes(final)
    out = subprocess.run(["pdfsig", "-nssdir", f"sql:{nss}", str(path)], capture_output=True, text=True, timeout=120)
    blocks = out.stdout.split("Signature #")[1:]
    assert len(blocks) == 2, out.stdout
    for block in blocks:
        assert "Signature Validation: Signature is Valid." in block, block
        assert "Certificate Validation: Certificate is Trusted." in block, block
    root = tmp_path / "root.pem"
    root.write_bytes(pki.root.der)
    verified = subprocess.run([sys.executable, "-m", "kyso", "--home", str(tmp_path / "home"), "verify", "--format",
                               "json", "--trust", str(root), str(path)], capture_output=True, text=True, timeout=300)
    report = json.loads(verified.stdout)["files"][0]
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert report["indication"] == "TOTAL_PASSED"
    assert [s["kind"] for s in report["signatures"]] == ["personal", "agency"]


def test_download_and_upload_carry_the_session_cookie_and_the_bearer_token(vgca_world):
    vgca_world.dms.files["a.pdf"] = _decision()
    frame = vgca_world.document_frame("a.pdf")
    frame["JWTToken"] = "wrong"
    answer = vgca_world.call("SignApproved", frame)
    assert answer["Status"] == 5
    assert answer["Message"] == (f"tải tệp {vgca_world.dms.origin}/files/a.pdf thất bại: máy chủ trả lời HTTP 401 / "
                                 f"download of {vgca_world.dms.origin}/files/a.pdf failed: the server answered HTTP 401")
    assert vgca_world.dms.uploads == []
    assert vgca_world.consent.requests == []  # nothing was shown for signing
    frame.update(JWTToken=JWT, SessionId=SESSION)
    assert vgca_world.call("SignApproved", frame)["Status"] == 0
