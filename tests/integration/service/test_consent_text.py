"""Issue 9, item 7, through the service: a title with U+2028 or a bidi override is refused at registration
(nothing stored); what is registered can be signed (the bridge accepts the description the service builds);
a description the bridge would refuse is refused at prepare with the reason. On SQLite and PostgreSQL."""

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ledger.models import Document
from tests.integration.service.test_signing_flow import B64, register
from tests.support.documents import sample_decision, signature_png
from token_bridge.signing import SignatureRequest

pytestmark = pytest.mark.integration


def _documents(world) -> int:
    with Session(world.app.extensions["kyso"].engine) as db:
        return db.scalar(select(func.count()).select_from(Document))


@pytest.mark.parametrize("title, english", [
    ("Quyết định\u2028Đồng ý ký? Có", "U+2028 (LINE SEPARATOR)"),
    ("Hợp đồng \u202etxt.exe", "U+202E (RIGHT-TO-LEFT OVERRIDE)"),
    ("Công văn \u3164\u3164", "U+3164 (HANGUL FILLER)"),
])
def test_title_that_would_fake_the_consent_prompt_is_refused_at_registration(signing_world, title, english):
    api = signing_world.api("dms")
    before = _documents(signing_world)
    answer = api.post("/api/v1/documents", json={"agency_code": "H26.10", "direction": "outgoing",
                                                  "doc_type": "Quyết định", "title": title})
    assert (answer.status_code, answer.json["message"]) == (
        400, f"title contains a character that is not allowed: {english}")
    assert _documents(signing_world) == before


def test_nbsp_flood_in_a_title_is_refused_at_registration(signing_world):
    answer = signing_world.api("dms").post("/api/v1/documents", json={
        "agency_code": "H26.10", "direction": "outgoing", "doc_type": "Quyết định",
        "title": "Về việc" + "\u00a0" * 900 + "chuyển tiền"})
    assert (answer.status_code, answer.json["message"]) == (400, "title has more than 2 spaces in a row")


def test_what_is_registered_can_be_signed(signing_world, pki):
    api = signing_world.api("dms")
    title = "Về việc phê duyệt “Đề án” nâng cấp trụ sở – giai đoạn 2 (ước 1.000.000₫)"
    document = register(api, title=title)
    prepared = api.post("/api/v1/signing-sessions", json={
        "kind": "approve", "certificate": B64(pki.official_rsa.der), "document_id": document["id"],
        "signature_image": B64(signature_png())})
    assert prepared.status_code == 201, prepared.json
    assert prepared.json["description"].endswith(f" — {title}")
    request = SignatureRequest.from_json(prepared.json["bridge_request"] | {"certificate_id": "ab" * 32})
    assert request.description == prepared.json["description"]


def test_description_the_bridge_would_refuse_is_refused_at_prepare(signing_world, pki):
    api = signing_world.api("dms")
    answer = api.post("/api/v1/signing-sessions", json={
        "kind": "approve", "certificate": B64(pki.official_rsa.der), "document": B64(sample_decision()),
        "signature_image": B64(signature_png()), "agency_code": "H26.10", "filename": "hop-dong\u202efdp.exe"})
    assert (answer.status_code, answer.json["message"]) == (
        400, "the signing description cannot be shown for consent: description contains a character that is not"
             " allowed: U+202E (RIGHT-TO-LEFT OVERRIDE)")
