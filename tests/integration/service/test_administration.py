"""Certificate administration through the service (administrators only, audited, the roster follows), the
PKI endpoints mounted at /pki, the signed Vietnamese receipt of a validation, and the OpenAPI document of
the full application."""

import base64
import hashlib
import re
import subprocess

import pytest
from asn1crypto import ocsp, pem

from ca.requests import build_csr
from signer.keys import InMemoryKey
from tests.integration.service.test_signing_flow import B64, register, sign_through_service
from tests.support.documents import signature_png
from tests.support.ledger import ROSTER_CSV
from tests.support.pki import build_small_authority
from tests.support.service import build_service_world, pki_components

pytestmark = pytest.mark.integration

SUBJECT = [("country_name", "VN"), ("organization_name", "Sở Nội vụ Thành phố Hà Nội"),
           ("title", "Chuyên viên"), ("common_name", "Đỗ Thị Hoa"), ("user_id", "CCCD:001190011111")]


@pytest.fixture
def ca_world(database_url, pki):
    authority = build_small_authority(database_url, base_url="http://pki.test")
    components = pki_components(database_url, pki, authority=authority)
    world = build_service_world(database_url, components=components, roster=ROSTER_CSV, mount_pki=True)
    yield world, authority
    components.dispose()
    authority.store.close()


def test_administrator_issues_and_revokes_and_the_roster_follows(ca_world):
    world, authority = ca_world
    admin = world.logged_in("admin")
    csr = pem.armor("CERTIFICATE REQUEST", build_csr(SUBJECT, InMemoryKey.generate_ec())).decode()
    issued = admin.post("/api/v1/certificates", json={"csr": csr, "profile": "personal", "agency_code": "H26.10"})
    assert issued.status_code == 201, issued.json
    serial = issued.json["serial"]
    assert issued.json["certificate"].startswith("-----BEGIN CERTIFICATE-----")
    listed = admin.get("/api/v1/certificates?issuer=gov").json["certificates"]
    assert serial in [c["serial"] for c in listed]

    refused = admin.post("/api/v1/certificates", json={"csr": csr, "profile": "agency", "agency_code": "H26.10"})
    assert refused.status_code == 400 and refused.json["error"] == "bad_request"

    revoked = admin.post(f"/api/v1/certificates/{serial}/revocation", json={"reason": "key_compromise"})
    assert revoked.status_code == 200 and revoked.json["newly_revoked"] is True
    again = admin.post(f"/api/v1/certificates/{serial}/revocation", json={"reason": "key_compromise"})
    assert again.json["newly_revoked"] is False and again.json["revoked_at"] == revoked.json["revoked_at"]
    record = authority.store.find_certificate(int(serial, 16))
    assert record.revocation_reason.value == "key_compromise"
    from ledger.roster import certificates_of_agency

    roster = {c.serial: c for c in certificates_of_agency(world.app.extensions["kyso"].components.ledger, "H26.10")}
    assert roster[serial].revoked_at is not None
    events = admin.get("/api/v1/audit?action=certificate.revoke").json["events"]
    assert [(e["actor"], e["target"]) for e in events][:1] == [("user:admin", serial)]
    unknown = admin.post("/api/v1/certificates/abcdef/revocation", json={"reason": "superseded"})
    assert unknown.status_code == 404
    bad = admin.post("/api/v1/certificates/zz/revocation", json={"reason": "superseded"})
    assert (bad.status_code, bad.json["message"]) == (400, "invalid serial 'zz' (hex)")


def test_pki_endpoints_are_mounted(ca_world):
    world, authority = ca_world
    client = world.client()
    crl = client.get("/pki/gov.crl")
    assert crl.status_code == 200 and crl.mimetype == "application/pkix-crl"
    assert client.get("/pki/gov.crt").data == authority.issuer("gov").certificate.dump()
    answer = client.post("/pki/ocsp", data=b"not an OCSP request", content_type="application/ocsp-request")
    assert ocsp.OCSPResponse.load(answer.data)["response_status"].native == "malformed_request"
    from openapi_spec_validator import validate

    document = client.get("/api/v1/openapi.json").json
    validate(document)
    paths = document["paths"]
    assert {"/pki/{name}.crt", "/pki/{name}.crl", "/pki/ocsp", "/pki/ocsp/{encoded}", "/pki/tsa"} <= set(paths)
    assert {"/api/v1/certificates", "/api/v1/certificates/{serial}/revocation", "/api/v1/signing-sessions",
            "/api/v1/validations", "/api/v1/reports/monthly", "/api/v1/ledger/verify",
            "/api/v1/documents", "/api/v1/roster/agencies"} <= set(paths)


def test_validation_receipt_is_a_signed_vietnamese_pdf(signing_world, pki, tmp_path):
    api = signing_world.api("dms")
    document = register(api)
    _session, approved = sign_through_service(api, pki.official_rsa, kind="approve", document_id=document["id"],
                                              signature_image=B64(signature_png()), title="GIÁM ĐỐC")
    signed = base64.b64decode(approved.json["document"])
    checked = api.post("/api/v1/validations", data=signed, content_type="application/pdf").json
    receipt = api.get(checked["receipt_url"])
    assert receipt.mimetype == "application/pdf"
    path = tmp_path / "bien-nhan.pdf"
    path.write_bytes(receipt.data)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    assert "BIÊN NHẬN KẾT QUẢ KIỂM TRA CHỮ KÝ SỐ" in text
    assert "Kết luận: HỢP LỆ" in text and "Người ký: Nguyễn Văn An (CCCD:001085012345)" in text
    assert re.search(r"Thời gian ký: \d{4}-\d\d-\d\dT[\d:]+\+07:00 \(theo dấu thời gian\)", text)
    # The receipt itself carries the service's agency signature, valid for the verifier.
    judged = api.post("/api/v1/validations", data=receipt.data, content_type="application/pdf").json["files"][0]
    assert judged["indication"] == "TOTAL_PASSED"
    assert judged["signatures"][0]["signer"]["common_name"] == "Sở Nội vụ Thành phố Hà Nội"
    assert api.get(checked["receipt_url"]).data == receipt.data  # made once, then kept


def test_incoming_document_failing_check_is_returned_and_recorded(signing_world, pki):
    api = signing_world.api("dms")
    outgoing = register(api)
    _session, approved = sign_through_service(api, pki.official_rsa, kind="approve", document_id=outgoing["id"],
                                              signature_image=B64(signature_png()), title="GIÁM ĐỐC")
    tampered = bytearray(base64.b64decode(approved.json["document"]))
    tampered[outgoing["file"]["size"] // 2] ^= 0x01
    incoming = api.post("/api/v1/documents", json={"agency_code": "H26", "direction": "incoming",
                                                   "doc_type": "Quyết định", "counterpart_code": "H26.10"}).json
    checked = api.post(f"/api/v1/validations?document_id={incoming['id']}", data=bytes(tampered),
                       content_type="application/pdf").json
    assert checked["returned"] is True and checked["files"][0]["indication"] == "TOTAL_FAILED"
    assert len(checked["ledger_records"]) == 1
    stored = api.get(f"/api/v1/documents/{incoming['id']}").json
    assert stored["return_reason"].startswith("Kiểm tra chữ ký không đạt / signature check failed:")
    records = signing_world.api("reader").get(f"/api/v1/ledger/documents/{incoming['id']}/records").json["records"]
    assert [(r["event"], r["purpose"], r["indication"]) for r in records] == [("verified", "incoming", "TOTAL_FAILED")]
    assert records[0]["certificate_serial"] == format(pki.official_rsa.serial_number, "x")
    from ledger.documents import find_document_by_digest

    linked = find_document_by_digest(signing_world.app.extensions["kyso"].components.ledger,
                                     hashlib.sha256(bytes(tampered)).hexdigest())
    assert linked.id == incoming["id"]
    again = api.post(f"/api/v1/validations?document_id={incoming['id']}", data=bytes(tampered),
                     content_type="application/pdf")
    assert again.status_code == 200 and len(again.json["ledger_records"]) == 1  # a second check is recorded too
    outgoing_check = api.post(f"/api/v1/validations?document_id={outgoing['id']}", data=bytes(tampered),
                              content_type="application/pdf")
    assert (outgoing_check.status_code, outgoing_check.json["message"]) == (
        400, f"document {outgoing['id']} is not an incoming document")
