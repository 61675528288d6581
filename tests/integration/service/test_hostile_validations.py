"""Issue 9, items 1 and 3, on SQLite and PostgreSQL: a validation linked to a document writes in that
document's agency's name, so it needs the `documents` permission on that agency; a field without a signature
value is not recorded; a file with more signature fields than the limit is refused with 422 and nothing is
stored."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.orm import Session

from tests.support.documents import sample_decision
from tests.support.hostile_pdfs import with_empty_signature_fields
from tests.support.verifier import sign_pdf

pytestmark = pytest.mark.integration


def add_key(world, name: str, scopes: set[str], *, agency: str | None) -> str:
    from service.accounts import Permission, create_api_key

    engine = world.app.extensions["kyso"].engine
    with Session(engine) as db, db.begin():
        _row, token = create_api_key(db, name, scopes=frozenset(Permission(s) for s in scopes), agency_code=agency,
                                     now=dt.datetime(2026, 11, 29, tzinfo=dt.timezone.utc))
    return token


def storage_state(world, document_id: int) -> dict:
    """What a refused request must leave unchanged: validations, ledger records, signed files and the
    document's return mark."""
    engine = create_engine(world.settings.database_url)
    with engine.connect() as connection:
        state = {
            "validations": connection.execute(text("SELECT count(*) FROM service_validations")).scalar_one(),
            "records": connection.execute(text("SELECT count(*) FROM ledger_records")).scalar_one(),
            "signed_files": connection.execute(text("SELECT count(*) FROM ledger_signed_files")).scalar_one(),
            "returned": connection.execute(text("SELECT returned_at FROM ledger_documents WHERE id = :id"),
                                           {"id": document_id}).scalar_one(),
        }
    engine.dispose()
    return state


def incoming_for_agency(world, agency: str = "H26.10") -> dict:
    answer = world.api("dms").post("/api/v1/documents", json={
        "agency_code": agency, "direction": "incoming", "doc_type": "Công văn", "counterpart_code": "H26"})
    assert answer.status_code == 201, answer.json
    return answer.json


@pytest.fixture
def signed_with_empty_fields(verifier_kit) -> bytes:
    """A decision with five signature fields that hold no signature value, then one real signature."""
    return sign_pdf(with_empty_signature_fields(sample_decision(), 5), verifier_kit.signer("official_rsa"))


def test_validation_key_of_another_agency_cannot_mark_or_record_a_document(signing_world, signed_with_empty_fields):
    document = incoming_for_agency(signing_world)
    before = storage_state(signing_world, document["id"])
    other = add_key(signing_world, "other-agency", {"validate", "documents"}, agency="H26.30.01")
    from tests.support.service import ApiClient

    answer = ApiClient(signing_world.app.test_client(), other).post(
        f"/api/v1/validations?document_id={document['id']}", data=signed_with_empty_fields,
        content_type="application/pdf")
    assert (answer.status_code, answer.json["error"], answer.json["message"], answer.json["message_vi"]) == (
        403, "forbidden", "you may act for agency H26.30.01 only", "Bạn chỉ được thao tác cho cơ quan H26.30.01")
    assert storage_state(signing_world, document["id"]) == before


def test_validate_only_key_cannot_link_a_validation_to_a_document(signing_world, signed_with_empty_fields):
    document = incoming_for_agency(signing_world)
    before = storage_state(signing_world, document["id"])
    api = signing_world.api("validator")  # scope `validate` only, no agency
    answer = api.post(f"/api/v1/validations?document_id={document['id']}", data=signed_with_empty_fields,
                      content_type="application/pdf")
    assert (answer.status_code, answer.json["message"]) == (
        403, "permission 'documents' is required to link a validation to a document")
    assert storage_state(signing_world, document["id"]) == before
    # The same key still validates without linking (its own permission).
    plain = api.post("/api/v1/validations", data=signed_with_empty_fields, content_type="application/pdf")
    assert plain.status_code == 200 and plain.json["ledger_records"] == []


def test_clerk_of_another_agency_cannot_link_a_validation(signing_world, signed_with_empty_fields):
    document = incoming_for_agency(signing_world, agency="H26")  # the clerk belongs to H26.10
    before = storage_state(signing_world, document["id"])
    clerk = signing_world.logged_in("clerk")
    answer = clerk.post(f"/api/v1/validations?document_id={document['id']}", data=signed_with_empty_fields,
                        content_type="application/pdf")
    assert (answer.status_code, answer.json["message"]) == (403, "you may act for agency H26.10 only")
    assert storage_state(signing_world, document["id"]) == before


def test_fields_without_a_signature_value_are_not_recorded(signing_world, signed_with_empty_fields):
    document = incoming_for_agency(signing_world)
    clerk = signing_world.logged_in("clerk")  # of H26.10, the document's agency
    answer = clerk.post(f"/api/v1/validations?document_id={document['id']}", data=signed_with_empty_fields,
                        content_type="application/pdf")
    assert answer.status_code == 200, answer.json
    assert [s["field"] for s in answer.json["files"][0]["signatures"]] == ["Signature1"]
    assert len(answer.json["ledger_records"]) == 1


def test_three_hundred_signature_fields_are_refused_and_nothing_is_stored(signing_world):
    document = incoming_for_agency(signing_world)
    before = storage_state(signing_world, document["id"])
    hostile = with_empty_signature_fields(sample_decision(), 300)
    answer = signing_world.api("dms").post(f"/api/v1/validations?document_id={document['id']}", data=hostile,
                                           content_type="application/pdf")
    assert (answer.status_code, answer.json["error"], answer.json["message"], answer.json["message_vi"]) == (
        422, "document_too_complex", "refused: the PDF has more than 100 signature fields",
        "từ chối: tệp PDF có hơn 100 trường chữ ký")
    assert storage_state(signing_world, document["id"]) == before


def test_report_over_the_size_limit_is_refused_and_nothing_is_stored(database_url, pki, signed_with_empty_fields):
    from tests.support.ledger import ROSTER_CSV
    from tests.support.service import build_service_world, pki_components

    components = pki_components(database_url, pki)
    world = build_service_world(database_url, components=components, roster=ROSTER_CSV, max_report_bytes=500)
    try:
        document = incoming_for_agency(world)
        before = storage_state(world, document["id"])
        answer = world.api("dms").post(f"/api/v1/validations?document_id={document['id']}",
                                       data=signed_with_empty_fields, content_type="application/pdf")
        assert answer.status_code == 422, answer.json
        assert answer.json["detail"] == {"reason": "report_too_large", "limit": 500}
        assert answer.json["message"].startswith("refused: the validation report would be ")
        assert answer.json["message"].endswith(" bytes, over the limit of 500 bytes")
        assert storage_state(world, document["id"]) == before
    finally:
        components.dispose()
        world.app.extensions["kyso"].engine.dispose()
