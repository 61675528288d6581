"""The central flows through HTTP on SQLite and PostgreSQL: register, approve, issue, verify, record, report."""

import base64
import datetime as dt
import hashlib
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from policies.keys import DigestAlgorithm, SignatureScheme
from tests.support.documents import sample_decision, seal_png, signature_png

pytestmark = pytest.mark.integration

B64 = lambda data: base64.b64encode(data).decode()  # noqa: E731


def register(api, **fields):
    body = {"agency_code": "H26.10", "direction": "outgoing", "doc_type": "Quyết định",
            "title": "Về việc ban hành quy chế ký số", "file": B64(sample_decision()), "filename": "quyet-dinh.pdf"}
    body.update(fields)
    answer = api.post("/api/v1/documents", json=body)
    assert answer.status_code == 201, answer.json
    return answer.json


def sign_through_service(api, entity, *, kind, document_id, **fields):
    body = {"kind": kind, "certificate": B64(entity.der), "document_id": document_id, **fields}
    prepared = api.post("/api/v1/signing-sessions", json=body)
    assert prepared.status_code == 201, prepared.json
    session = prepared.json
    signature = entity.key.sign_digest(
        base64.b64decode(session["digest"]),
        digest_algorithm=DigestAlgorithm(session["digest_algorithm"]),
        scheme=SignatureScheme(session["signature_algorithm"]),
    )
    completed = api.post(f"/api/v1/signing-sessions/{session['id']}/signature", json={"signature": B64(signature)})
    return session, completed


def test_register_approve_issue_verify_record_report(signing_world, pki):
    api = signing_world.api("dms")
    document = register(api)
    assert document["file"]["revision"] == 0 and document["number"] is None

    session, approved = sign_through_service(api, pki.official_rsa, kind="approve", document_id=document["id"],
                                             signature_image=B64(signature_png()), title="GIÁM ĐỐC")
    assert session["bridge_request"]["signature_algorithm"] == "rsassa_pkcs1v15"
    assert "Nguyễn Văn An" in session["description"] and "Về việc ban hành quy chế ký số" in session["description"]
    assert approved.status_code == 200, approved.json
    assert approved.json["status"] == "completed"
    assert approved.json["signature_report"]["indication"] == "TOTAL_PASSED"
    assert approved.json["signature_report"]["signing_time_source"] == "timestamp"
    approved_pdf = base64.b64decode(approved.json["document"])
    assert hashlib.sha256(approved_pdf).hexdigest() == approved.json["sha256"]

    _session, issued = sign_through_service(api, pki.agency_rsa, kind="issue", document_id=document["id"],
                                            seal_image=B64(seal_png()), series="QĐ-UBND")
    assert issued.status_code == 200, issued.json
    assert issued.json["number"]["number"] == 1 and issued.json["number"]["notation"] == "01/QĐ-UBND"
    assert issued.json["indication"] == "TOTAL_PASSED"

    stored = api.get(f"/api/v1/documents/{document['id']}").json
    assert (stored["number"], stored["notation"], stored["file"]["revision"]) == (1, "QĐ-UBND", 2)
    current = api.get(f"/api/v1/documents/{document['id']}/file")
    assert current.data == base64.b64decode(issued.json["document"])

    reader = signing_world.api("reader")
    chain = reader.get("/api/v1/ledger/verify").json
    # 2 signatures and 6 covering records (ledger.covered): the registration; after approving, the document and
    # its file; after issuing, the final number, the numbered document and its file.
    assert chain["intact"] is True and chain["records"] == 8
    from ledger.models import Record

    with signing_world.app.extensions["kyso"].components.ledger.transaction() as db:
        covers = [row.covers for row in db.scalars(select(Record).order_by(Record.seq))]
    assert covers == [f"document:{document['id']}", None, f"document:{document['id']}", "signed_file:1", None,
                      "number:1", f"document:{document['id']}", "signed_file:2"]
    records = reader.get(f"/api/v1/ledger/documents/{document['id']}/records").json["records"]
    assert [(r["purpose"], r["signature_kind"], r["event"]) for r in records] == [
        ("approve", "personal", "signed"), ("issue", "agency", "signed")]
    assert records[0]["certificate_serial"] == format(pki.official_rsa.serial_number, "x")
    # The recorded digest is that of the revision each signature's ByteRange covers (read back by pyHanko).
    from service.evidence import pdf_signature_evidence

    evidence = pdf_signature_evidence(current.data)
    assert sorted(r["signed_digest"] for r in records) == sorted(e.revision_sha256 for e in evidence.values())

    verified = api.post("/api/v1/validations", data=current.data, content_type="application/pdf").json
    assert verified["files"][0]["indication"] == "TOTAL_PASSED"
    assert [s["kind"] for s in verified["files"][0]["signatures"]] == ["personal", "agency"]

    month = dt.datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).strftime("%Y-%m")
    report = reader.get(f"/api/v1/reports/monthly?month={month}").json
    department = next(a for level in report["levels"] for a in level["agencies"] if a["code"] == "H26.10")
    assert department["figures"]["signed_valid_both"]["count"] == 1
    assert department["figures"]["signed_valid_both"]["document_ids"] == [document["id"]]
    csv_answer = reader.get(f"/api/v1/reports/monthly?month={month}&format=csv")
    assert csv_answer.mimetype == "text/csv" and "H26.10" in csv_answer.data.decode()
    xlsx = reader.get(f"/api/v1/reports/monthly?month={month}&format=xlsx")
    assert xlsx.data[:2] == b"PK"


def test_copy_appendix_and_incoming_signatures(signing_world, pki):
    api = signing_world.api("dms")
    uploaded = {"document": B64(sample_decision()), "filename": "ban-sao.pdf", "agency_code": "H26.10"}
    for kind, fields in (("copy", {"copy_form": "SAO Y", "copying_agency": "Sở Nội vụ Thành phố Hà Nội"}),
                         ("appendix", {"notation": "15/QĐ-UBND"})):
        body = {"kind": kind, "certificate": B64(pki.agency_ec.der), **uploaded, **fields}
        prepared = api.post("/api/v1/signing-sessions", json=body)
        assert prepared.status_code == 201, prepared.json
        assert prepared.json["signature_algorithm"] == "ecdsa"
        value = pki.agency_ec.key.sign_digest(base64.b64decode(prepared.json["digest"]),
                                              digest_algorithm=DigestAlgorithm.SHA256, scheme=SignatureScheme.ECDSA)
        done = api.post(f"/api/v1/signing-sessions/{prepared.json['id']}/signature", json={"signature": B64(value)})
        assert done.status_code == 200, done.json
        assert (done.json["document_id"], done.json["signature_report"]["kind"]) == (None, "agency")
        assert api.get(done.json["download_url"]).data == base64.b64decode(done.json["document"])

    incoming = register(api, direction="incoming", counterpart_code="H26")
    first = sign_through_service(api, pki.agency_ec, kind="incoming", document_id=incoming["id"])[1]
    assert first.status_code == 200, first.json
    second_document = register(api, direction="incoming", counterpart_code="H26", filename="den-2.pdf")
    second = sign_through_service(api, pki.agency_ec, kind="incoming", document_id=second_document["id"])[1]
    assert second.status_code == 200, second.json
    records = signing_world.api("reader").get(f"/api/v1/ledger/documents/{incoming['id']}/records").json["records"]
    assert [(r["purpose"], r["signature_kind"]) for r in records] == [("incoming", "agency")]
    wrong = api.post("/api/v1/signing-sessions", json={"kind": "approve", "certificate": B64(pki.official_rsa.der),
                                                       "document_id": incoming["id"],
                                                       "signature_image": B64(signature_png())})
    assert (wrong.status_code, wrong.json["message"]) == (400, "a signature of kind 'approve' does not apply to an incoming document")


def test_document_listing_filters(signing_world):
    api = signing_world.api("dms")
    with_file = register(api)
    without = api.post("/api/v1/documents", json={"agency_code": "H26", "direction": "incoming",
                                                  "doc_type": "Công văn"}).json
    listed = api.get("/api/v1/documents").json["documents"]
    assert [d["id"] for d in listed] == [without["id"], with_file["id"]]  # newest first
    assert [d["id"] for d in api.get("/api/v1/documents?with_file=1").json["documents"]] == [with_file["id"]]
    assert [d["id"] for d in api.get("/api/v1/documents?direction=incoming").json["documents"]] == [without["id"]]
    assert [d["id"] for d in api.get("/api/v1/documents?agency_code=H26.10").json["documents"]] == [with_file["id"]]
    official = signing_world.logged_in("official")  # bound to H26.10: sees its agency's documents only
    assert [d["id"] for d in official.get("/api/v1/documents").json["documents"]] == [with_file["id"]]
    assert official.get(f"/api/v1/documents/{without['id']}").status_code == 403
