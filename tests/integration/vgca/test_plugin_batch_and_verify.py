"""SignFiles (one consent for the whole list, one answer per file) and VerifyPDF (kyso's report in the
plugin's shape)."""

from __future__ import annotations

import pytest

from tests.support import documents
from tests.support.softhsm import PERSONAL_SUBJECT
from tests.support.vgca import JWT, SESSION

pytestmark = pytest.mark.integration

SIGNER = dict(PERSONAL_SUBJECT)["common_name"]
TITLE = dict(PERSONAL_SUBJECT)["title"]


def _batch(world, names):
    return {"FileUploadHandler": f"{world.dms.origin}/upload", "SessionId": SESSION, "JWTToken": JWT,
            "Files": [{"FileID": str(i), "FileName": name, "URL": f"{world.dms.origin}/files/{name}"}
                      for i, name in enumerate(names, 1)]}


def test_sign_files_asks_once_and_answers_per_file(vgca_world):
    for name in ("a.pdf", "b.pdf"):
        vgca_world.dms.files[name] = documents.decision_pdf(title=TITLE.upper(), name=SIGNER)
    answer = vgca_world.call("SignFiles", _batch(vgca_world, ["a.pdf", "b.pdf", "missing.pdf"]))
    assert answer["Status"] == 13
    assert answer["Message"] == "1/3 tệp không ký được / 1 of 3 files were not signed"
    assert [(f["FileID"], f["Status"]) for f in answer["Files"]] == [("1", 0), ("2", 0), ("3", 5)]
    assert answer["Files"][0]["FileName"] == "signed-1-a.pdf"
    assert answer["Files"][2]["Message"].endswith("failed: the server answered HTTP 404")
    assert len(vgca_world.consent.requests) == 1  # one dialog for the list
    shown = vgca_world.consent.requests[0].description
    assert shown.startswith("ký duyệt 2 văn bản / approve 2 documents: a.pdf (SHA-256 ")
    assert "b.pdf (SHA-256 " in shown
    assert [u["filename"] for u in vgca_world.dms.uploads] == ["a.pdf", "b.pdf"]
    signed = [r for r in vgca_world.audit.records() if r.outcome == "signed"]
    assert len(signed) == 2
    # the approval was for that list only: a later single signature asks again
    vgca_world.dms.files["c.pdf"] = vgca_world.dms.files["a.pdf"]
    vgca_world.consent.answers.append(False)
    assert vgca_world.call("SignApproved", vgca_world.document_frame("c.pdf"))["Status"] == 7


def test_a_refused_batch_signs_nothing(vgca_world):
    vgca_world.dms.files["a.pdf"] = documents.decision_pdf(title=TITLE.upper(), name=SIGNER)
    vgca_world.consent.answers.append(False)
    answer = vgca_world.call("SignFiles", _batch(vgca_world, ["a.pdf"]))
    assert answer == {"Status": 7, "Message": "1/1 tệp không ký được / 1 of 1 files were not signed", "Files": [
        {"FileID": "1", "Status": 7, "FileName": "a.pdf", "FileServer": "",
         "Message": "người dùng đã từ chối ký / the user refused to sign"}]}
    assert vgca_world.dms.uploads == []


def test_verify_pdf_reports_kyso_verifier_in_the_plugins_shape(vgca_world):
    vgca_world.dms.files["a.pdf"] = documents.decision_pdf(title=TITLE.upper(), name=SIGNER)
    assert vgca_world.call("SignApproved", vgca_world.document_frame("a.pdf"))["Status"] == 0
    vgca_world.dms.files["signed.pdf"] = vgca_world.dms.uploads[0]["data"]
    frame = {"SessionId": SESSION, "FileName": f"{vgca_world.dms.origin}/files/signed.pdf"}
    # VerifyPDF carries no JWTToken: this document system only serves with one, so the download is refused
    assert vgca_world.call("VerifyPDF", frame)["Status"] == 5
    vgca_world.dms.files["plain.pdf"] = documents.decision_pdf()
    vgca_world.dms.open_paths = True
    report = vgca_world.call("VerifyPDF", frame)
    assert report["Status"] == 0, report
    assert report["Indication"] == "TOTAL_PASSED"
    [signature] = report["Signatures"]
    assert (signature["Signer"], signature["Valid"], signature["Kind"], signature["SigningTimeSource"]) == (
        SIGNER, True, "personal", "timestamp")
    unsigned = vgca_world.call("VerifyPDF", {"FileName": f"{vgca_world.dms.origin}/files/plain.pdf"})
    assert unsigned == {"Status": 15, "Message": "văn bản không có chữ ký số / the document carries no signature",
                        "Indication": "NO_SIGNATURE_FOUND", "Signatures": []}
