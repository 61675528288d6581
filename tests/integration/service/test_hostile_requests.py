"""Issue 9, items 2, 11 and 12 through the service's API (SQLite and PostgreSQL): what used to be a 500, a
lock-up or a leak is a precise 400/404/413/422 that changes nothing."""

from __future__ import annotations

import base64
import io
import re
import threading

import pytest
from sqlalchemy import create_engine, text

from tests.integration.service.test_hostile_validations import add_key, incoming_for_agency
from tests.support.documents import sample_decision, signature_png
from tests.support.hostile_pdfs import deep_page_tree, flate_bomb, looping_page_tree
from tests.support.service import PASSWORD, ApiClient
from tests.support.verifier import sign_pdf

pytestmark = pytest.mark.integration

B64 = lambda data: base64.b64encode(data).decode()  # noqa: E731
TOO_BIG = 2**64
ID_MESSAGE = "'document_id' must be a positive integer of at most 2147483647"


def count(world, table: str) -> int:
    engine = create_engine(world.settings.database_url)
    with engine.connect() as connection:
        value = connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
    engine.dispose()
    return value


def test_document_ids_beyond_64_bits_are_precise_400s(signing_world, pki):
    api = signing_world.api("dms")
    for path in (f"/api/v1/documents/{TOO_BIG}", f"/api/v1/documents/{TOO_BIG}/file"):
        answer = api.get(path)
        assert (answer.status_code, answer.json["message"]) == (400, ID_MESSAGE), path
    answer = api.post(f"/api/v1/validations?document_id={TOO_BIG}", data=sample_decision(),
                      content_type="application/pdf")
    assert (answer.status_code, answer.json["message"]) == (400, ID_MESSAGE)
    answer = api.post("/api/v1/signing-sessions", json={"kind": "approve", "certificate": B64(pki.official_rsa.der),
                                                        "document_id": TOO_BIG})
    assert (answer.status_code, answer.json["message"]) == (400, ID_MESSAGE)
    largest = api.get(f"/api/v1/documents/{2**31 - 1}")  # the largest id is looked up, and not there
    assert (largest.status_code, largest.json["error"]) == (404, "not_found")
    beyond = api.get(f"/api/v1/documents/{2**31}")
    assert (beyond.status_code, beyond.json["message"]) == (400, ID_MESSAGE)


def test_json_nested_100000_deep_is_a_400_and_stores_nothing(signing_world):
    api = signing_world.api("dms")
    before = count(signing_world, "ledger_documents")
    deep = "[" * 100_000 + "]" * 100_000
    for path in ("/api/v1/documents", "/api/v1/signing-sessions"):
        answer = api.post(path, data=deep, content_type="application/json")
        assert (answer.status_code, answer.json["message"]) == (400, "JSON body is nested deeper than 32 levels"), path
        nested = '{"title": ' + "[" * 40 + "]" * 40 + "}"
        answer = api.post(path, data=nested, content_type="application/json")
        assert (answer.status_code, answer.json["message"]) == (400, "JSON body is nested deeper than 32 levels"), path
    wrapped = '{"a": ' + "[" * 100_000 + "]" * 100_000 + "}"
    answer = api.post("/api/v1/documents", data=wrapped, content_type="application/json")
    assert (answer.status_code, answer.json["message"]) == (400, "JSON body is nested deeper than 32 levels")
    assert count(signing_world, "ledger_documents") == before


@pytest.mark.parametrize("maker, message", [
    (looping_page_tree, "refused: the page tree of the PDF refers back to itself (a reference loop)"),
    (deep_page_tree, "refused: the page tree of the PDF is nested more than 64 levels deep"),
    (flate_bomb, "refused: one stream of the PDF decodes to more than 67108864 bytes"),
])
def test_copy_prepare_of_a_hostile_pdf_is_a_422(signing_world, pki, maker, message):
    api = signing_world.api("dms")
    before = count(signing_world, "service_signing_sessions")
    answer = api.post("/api/v1/signing-sessions", json={
        "kind": "copy", "certificate": B64(pki.agency_ec.der), "document": B64(maker()), "filename": "ban-sao.pdf",
        "agency_code": "H26.10", "copy_form": "SAO Y", "copying_agency": "Sở Nội vụ Thành phố Hà Nội"})
    assert (answer.status_code, answer.json["error"], answer.json["message"]) == (422, "document_too_complex", message)
    assert count(signing_world, "service_signing_sessions") == before


def test_approve_prepare_of_a_flate_bomb_is_a_422(signing_world, pki):
    answer = signing_world.api("dms").post("/api/v1/signing-sessions", json={
        "kind": "approve", "certificate": B64(pki.official_rsa.der), "document": B64(flate_bomb()),
        "filename": "bom.pdf", "agency_code": "H26.10", "signature_image": B64(signature_png()), "title": "GIÁM ĐỐC"})
    assert (answer.status_code, answer.json["message"], answer.json["message_vi"]) == (
        422, "refused: one stream of the PDF decodes to more than 67108864 bytes",
        "từ chối: một luồng dữ liệu của tệp PDF giải nén ra hơn 67108864 byte")


def test_validation_results_and_receipts_are_readable_by_owner_or_agency_only(signing_world, verifier_kit):
    signed = sign_pdf(sample_decision(), verifier_kit.signer("official_rsa"))
    owner = signing_world.api("validator")
    stranger = ApiClient(signing_world.app.test_client(), add_key(signing_world, "stranger", {"validate"}, agency=None))
    mine = owner.post("/api/v1/validations", data=signed, content_type="application/pdf").json["validation_id"]
    assert owner.get(f"/api/v1/validations/{mine}").status_code == 200
    for path in (f"/api/v1/validations/{mine}", f"/api/v1/validations/{mine}/receipt"):
        answer = stranger.get(path)
        assert (answer.status_code, answer.json["message"]) == (404, f"no validation {mine}"), path

    document = incoming_for_agency(signing_world)  # of H26.10
    linked = signing_world.api("dms").post(f"/api/v1/validations?document_id={document['id']}", data=signed,
                                           content_type="application/pdf").json["validation_id"]
    clerk = signing_world.logged_in("clerk")  # a clerk of H26.10: the document's agency
    assert clerk.get(f"/api/v1/validations/{linked}").json["document_id"] == document["id"]
    other_agency = ApiClient(signing_world.app.test_client(),
                             add_key(signing_world, "other-agency", {"validate", "documents"}, agency="H26.30.01"))
    answer = other_agency.get(f"/api/v1/validations/{linked}/receipt")
    assert (answer.status_code, answer.json["message"]) == (404, f"no validation {linked}")
    assert (owner.get(f"/api/v1/validations/{linked}").status_code) == 404  # `validate` alone reads no others'
    assert signing_world.logged_in("admin").get(f"/api/v1/validations/{linked}").status_code == 200


@pytest.mark.parametrize("limit", ["-1", "0", "1001", "abc", "99999999999999999999"])
def test_audit_limit_outside_1_to_1000_is_a_400(service_world_on, limit):
    auditor = ApiClient(service_world_on.app.test_client(), add_key(service_world_on, "audit", {"audit"}, agency=None))
    answer = auditor.get(f"/api/v1/audit?limit={limit}")
    assert (answer.status_code, answer.json["message"]) == (400, "query parameter 'limit' must be an integer from 1 to 1000")


def test_audit_limit_is_honoured(service_world_on):
    auditor = ApiClient(service_world_on.app.test_client(), add_key(service_world_on, "audit", {"audit"}, agency=None))
    for _ in range(3):  # three audited refusals
        assert service_world_on.api("reader").get("/api/v1/audit").status_code == 403
    answer = auditor.get("/api/v1/audit?limit=2")
    assert answer.status_code == 200 and len(answer.json["events"]) == 2


def test_a_password_typed_as_username_is_never_stored_in_the_audit_trail(service_world_on):
    client = service_world_on.client()
    page = client.get("/login")
    token = re.search(rb'name="csrf_token" value="([^"]+)"', page.data).group(1).decode()
    typed = "Mật-khẩu-Bí-mật-2026!"
    for username in (typed, "clerk"):
        answer = client.post("/login", data={"username": username, "password": "wrong", "csrf_token": token})
        assert answer.status_code == 401
    engine = create_engine(service_world_on.settings.database_url)
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT actor, target, detail FROM service_audit_events "
                                       "WHERE action = 'login' ORDER BY id")).all()
    engine.dispose()
    assert not [row for row in rows if any(typed in (value or "") for value in row)]
    actors = [row.actor for row in rows]
    assert re.fullmatch(r"user:\?[0-9a-f]{16}", actors[0]) and actors[1] == "user:clerk"


@pytest.mark.parametrize("moment", ["0001-01-01T00:00:00+07:00", "9999-12-31T00:00:00+07:00",
                                    "1899-12-31T23:59:59+07:00", "2101-01-01T00:00:00+07:00"])
def test_document_dates_outside_1900_to_2100_are_refused(signing_world, moment):
    before = count(signing_world, "ledger_documents")
    answer = signing_world.api("dms").post("/api/v1/documents", json={
        "agency_code": "H26.10", "direction": "outgoing", "doc_type": "Quyết định", "dated_at": moment})
    assert (answer.status_code, answer.json["message"]) == (400, "field 'dated_at' must be in the years 1900 to 2100")
    assert count(signing_world, "ledger_documents") == before


def test_document_dates_at_the_bounds_are_accepted(signing_world):
    for moment in ("1900-01-01T00:00:00+07:00", "2100-12-31T23:59:59+07:00"):
        answer = signing_world.api("dms").post("/api/v1/documents", json={
            "agency_code": "H26.10", "direction": "outgoing", "doc_type": "Quyết định", "dated_at": moment})
        assert answer.status_code == 201, answer.json


def test_chunked_bodies_within_the_limit_are_read_whole_and_over_it_are_413(sqlite_url):
    from tests.support.service import build_service_world

    world = build_service_world(sqlite_url, max_upload_bytes=len(sample_decision()) + 10)
    try:
        api = world.api("validator")
        fits = api.post("/api/v1/validations", input_stream=io.BytesIO(sample_decision()),
                        headers={"Transfer-Encoding": "chunked", "Content-Type": "application/pdf"})
        assert (fits.status_code, fits.json["files"][0]["indication"]) == (200, "NO_SIGNATURE_FOUND")
        over = api.post("/api/v1/validations", input_stream=io.BytesIO(sample_decision() + bytes(11)),
                        headers={"Transfer-Encoding": "chunked", "Content-Type": "application/pdf"})
        limit = world.settings.max_upload_bytes
        assert (over.status_code, over.json["message"]) == (413, f"upload too large: at most {limit} bytes")
    finally:
        world.app.extensions["kyso"].engine.dispose()


def test_prepare_and_complete_do_not_take_the_receipt_key_lock(signing_world, pki):
    """Issue 9, item 2: the process-wide signer lock (now only the receipt key's) is never held across a
    prepare or a complete: with it held by someone else, a whole signature still completes."""
    components = signing_world.app.extensions["kyso"].components
    api = signing_world.api("dms")
    outcome = {}

    def sign() -> None:
        from policies.keys import DigestAlgorithm, SignatureScheme

        prepared = api.post("/api/v1/signing-sessions", json={
            "kind": "approve", "certificate": B64(pki.official_rsa.der), "document": B64(sample_decision()),
            "filename": "quyet-dinh.pdf", "agency_code": "H26.10", "signature_image": B64(signature_png()),
            "title": "GIÁM ĐỐC"})
        outcome["prepared"] = prepared.status_code
        value = pki.official_rsa.key.sign_digest(base64.b64decode(prepared.json["digest"]),
                                                 digest_algorithm=DigestAlgorithm.SHA256,
                                                 scheme=SignatureScheme(prepared.json["signature_algorithm"]))
        done = api.post(f"/api/v1/signing-sessions/{prepared.json['id']}/signature", json={"signature": B64(value)})
        outcome["completed"] = (done.status_code, done.json["signature_report"]["indication"])

    assert components.signer_lock.acquire(timeout=5)
    try:
        signer = threading.Thread(target=sign)
        signer.start()
        signer.join(300)  # behind the lock it would still be waiting here
        assert outcome == {"prepared": 201, "completed": (200, "TOTAL_PASSED")}
    finally:
        components.signer_lock.release()
        signer.join(300)
