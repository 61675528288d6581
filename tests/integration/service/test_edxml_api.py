"""The national document axis over HTTP: a package prepared from an issued document, signed by the seal key
(hash-only: the test's in-memory key plays the bridge), verified by POST /api/v1/validations, registered as
incoming and recorded; a tampered one returned with the reason and answered with a signed 02 status."""

from __future__ import annotations

import base64
import datetime as dt

import pytest
from lxml import etree

from policies.keys import DigestAlgorithm, SignatureScheme

E = "{http://www.mic.gov.vn/TBT/QCVN_102_2016}"
VIETNAM = dt.timezone(dt.timedelta(hours=7))


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _sign(api, session: dict, key) -> dict:
    value = key.sign_digest(base64.b64decode(session["digest"]),
                            digest_algorithm=DigestAlgorithm(session["digest_algorithm"]),
                            scheme=SignatureScheme(session["signature_algorithm"]))
    answer = api.post(f"/api/v1/edxml/sessions/{session['id']}/signature", json={"signature": _b64(value)})
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()


@pytest.fixture
def packed(signing_world, pki, issued_decision):
    api = signing_world.api("dms")
    issued_at = dt.datetime.combine(issued_decision.issued_on, dt.time(9, 30), VIETNAM)
    document = api.post("/api/v1/documents", json={
        "agency_code": "H26", "direction": "outgoing", "doc_type": "Quyết định", "number": issued_decision.number,
        "notation": "QĐ-UBND", "dated_at": issued_at.isoformat(), "title": "Về việc ban hành quy chế ký số",
        "file": _b64(issued_decision.pdf), "filename": "quyet-dinh.pdf"})
    assert document.status_code == 201, document.get_json()
    agency = pki.agency_rsa
    prepared = api.post("/api/v1/edxml/packages", json={
        "document_id": document.get_json()["id"], "recipients": ["H26.10"], "certificate": _b64(agency.der),
        "chain": [_b64(agency.chain[0].dump())]})
    assert prepared.status_code == 201, prepared.get_json()
    session = prepared.get_json()
    assert session["bridge_request"]["digest_algorithm"] == "sha256"
    assert session["description"].startswith("Ký gói tin edXML H26,")
    done = _sign(api, session, agency.key)
    return api, base64.b64decode(done["xml"])


@pytest.mark.integration
def test_package_round_trip_is_registered_as_incoming_and_recorded(packed, signing_world):
    api, xml = packed
    assert etree.fromstring(xml).findtext(f".//{E}To/{E}OrganId") == "H26.10"
    answer = api.post("/api/v1/validations?lang=vi", data=xml, headers={"Content-Type": "application/xml",
                                                                         "X-Filename": "goi-tin.edxml"})
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    [file] = body["files"]
    assert file["indication"] == "TOTAL_PASSED", file
    assert [s["kind"] for s in file["signatures"]] == ["package"]
    assert [[s["kind"] for s in a["signatures"]] for a in file["attachments"]] == [["personal", "agency"]]
    assert body["returned"] is False and len(body["ledger_records"]) == 3
    document = api.get(f"/api/v1/documents/{body['document_id']}").get_json()
    assert (document["direction"], document["agency_code"], document["counterpart_code"]) == ("incoming", "H26.10",
                                                                                                "H26")
    assert document["notation"] == "07/QĐ-UBND"
    receipt = api.get(body["receipt_url"])
    assert receipt.status_code == 200 and receipt.data.startswith(b"%PDF-")


@pytest.mark.integration
def test_tampered_package_is_returned_and_answered_with_a_signed_refusal(packed, signing_world, pki):
    api, xml = packed
    root = etree.fromstring(xml)
    root.find(f".//{E}Subject").text = "Nội dung đã bị sửa"
    tampered = etree.tostring(root)
    answer = api.post("/api/v1/validations", data=tampered, headers={"Content-Type": "application/xml"})
    body = answer.get_json()
    assert body["files"][0]["sub_indication"] == "HASH_FAILURE"
    assert body["returned"] is True
    assert body["return_reason"].startswith("Kiểm tra gói tin edXML không đạt: gói tin đã bị thay đổi sau khi ký")
    document = api.get(f"/api/v1/documents/{body['document_id']}").get_json()
    assert document["returned_at"] is not None

    agency = pki.agency_rsa
    prepared = api.post("/api/v1/edxml/status", json={
        "package": _b64(tampered), "agency_code": "H26.10", "certificate": _b64(agency.der)})
    assert prepared.status_code == 201, prepared.get_json()
    assert prepared.get_json()["status"] == "02"
    status = etree.fromstring(base64.b64decode(_sign(api, prepared.get_json(), agency.key)["xml"]))
    assert status.findtext(f".//{E}StatusCode") == "02"
    assert status.findtext(f".//{E}ResponseFor/{E}Code") == "07/QĐ-UBND"
    assert status.findtext(f".//{E}Description").startswith("Từ chối tiếp nhận: gói tin đã bị thay đổi")


@pytest.mark.integration
def test_a_wrong_signature_value_completes_nothing(signing_world, pki, packed):
    api, xml = packed
    agency = pki.agency_rsa
    prepared = api.post("/api/v1/edxml/status", json={
        "package": _b64(xml), "agency_code": "H26.10", "certificate": _b64(agency.der), "status": "01"}).get_json()
    assert prepared["status"] == "01"
    wrong = pki.official_rsa.key.sign_digest(base64.b64decode(prepared["digest"]), digest_algorithm=DigestAlgorithm.SHA256,
                                             scheme=SignatureScheme.RSA_PKCS1V15)
    answer = api.post(f"/api/v1/edxml/sessions/{prepared['id']}/signature", json={"signature": _b64(wrong)})
    assert answer.status_code == 400
    assert answer.get_json()["message"] == "the signature does not verify against the session's digest and certificate"
    again = _sign(api, prepared, agency.key)
    assert etree.fromstring(base64.b64decode(again["xml"])).findtext(f".//{E}StatusCode") == "01"


@pytest.mark.integration
def test_xxe_package_is_refused_and_nothing_is_registered(signing_world):
    api = signing_world.api("dms")
    payload = (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
               b'<edXML:edXMLEnvelope xmlns:edXML="http://www.mic.gov.vn/TBT/QCVN_102_2016">&e;'
               b'</edXML:edXMLEnvelope>')
    body = api.post("/api/v1/validations", data=payload, headers={"Content-Type": "application/xml"}).get_json()
    assert (body["files"][0]["indication"], body["files"][0]["sub_indication"]) == ("TOTAL_FAILED", "FORMAT_FAILURE")
    assert body["document_id"] is None and body["ledger_records"] == []
    listed = api.get("/api/v1/documents?direction=incoming").get_json()
    assert listed["documents"] == []


@pytest.mark.integration
def test_monthly_report_counts_received_packages(packed, signing_world):
    api, xml = packed
    valid = api.post("/api/v1/validations", data=xml, headers={"Content-Type": "application/xml"}).get_json()
    root = etree.fromstring(xml)
    root.find(f".//{E}Subject").text = "Nội dung đã bị sửa"
    returned = api.post("/api/v1/validations", data=etree.tostring(root),
                        headers={"Content-Type": "application/xml"}).get_json()
    assert "document_id" in returned, returned
    month = dt.datetime.now(VIETNAM).strftime("%Y-%m")
    report = signing_world.api("reader").get(f"/api/v1/reports/monthly?month={month}&format=json").get_json()
    [agency] = [a for level in report["levels"] for a in level["agencies"] if a["code"] == "H26.10"]
    figures = agency["figures"]
    assert figures["incoming"]["document_ids"] == sorted([valid["document_id"], returned["document_id"]])
    assert figures["incoming_valid"]["document_ids"] == [valid["document_id"]]
    assert figures["incoming_invalid"]["document_ids"] == [returned["document_id"]]
    assert figures["incoming_returned"]["document_ids"] == [returned["document_id"]]
    assert figures["incoming_returned"]["reasons"][0].startswith("Kiểm tra gói tin edXML không đạt")
