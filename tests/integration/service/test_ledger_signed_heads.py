"""Issue 9, item 10, through the service: its seal (the receipt signer) signs the chain head of every record it
appends, and `GET /api/v1/ledger/verify` catches a truncated chain with its head moved back, without any
anchor. On SQLite and PostgreSQL."""

import pytest
from sqlalchemy import select, text

from ledger.models import SignedHeadRow
from tests.integration.service.test_signing_flow import B64, register, sign_through_service
from tests.support.documents import signature_png

pytestmark = pytest.mark.integration


def test_truncating_the_chain_the_service_sealed_is_detected_without_anchor(signing_world, pki):
    api = signing_world.api("dms")
    for _ in range(2):
        document = register(api)
        _session, done = sign_through_service(api, pki.official_rsa, kind="approve", document_id=document["id"],
                                              signature_image=B64(signature_png()))
        assert done.status_code == 200, done.json
    store = signing_world.app.extensions["kyso"].components.ledger
    with store.transaction() as session:
        heads = [(row.seq, row.scheme) for row in session.scalars(select(SignedHeadRow).order_by(SignedHeadRow.seq))]
    # Per document: its registration (covered, sealed), the signature (sealed), then the document with its
    # number and the stored file (two covering records, sealed once at the last).
    assert heads == [(seq, "rsassa_pkcs1v15") for seq in (1, 2, 4, 5, 6, 8)]
    reader = signing_world.api("reader")
    assert reader.get("/api/v1/ledger/verify").json["intact"] is True
    with store.engine.begin() as connection:
        fourth_hash = connection.execute(text("SELECT hash FROM ledger_records WHERE seq = 4")).scalar_one()
        connection.execute(text("DELETE FROM ledger_records WHERE seq > 4"))
        connection.execute(text("UPDATE ledger_chain_head SET last_seq = 4, last_hash = :h"), {"h": fourth_hash})
    report = reader.get("/api/v1/ledger/verify").json
    assert report["intact"] is False
    assert [(p["kind"], p["seq"], p["row"], p["message_en"]) for p in report["problems"]] == [
        ("inserted", 0, f"document:{document['id']}",
         f"document {document['id']} is in no record of the chain: it was added outside the service"),
        ("inserted", 0, "signed_file:2", "signed file 2 is in no record of the chain: it was added outside the service"),
        ("changed", 4, None, "the chain head was moved back to record 4; record 8 was signed as the head"),
        ("missing", 5, None, "record 5 was signed as the chain head but is gone: the chain was truncated after record 4"),
        ("missing", 6, None, "record 6 was signed as the chain head but is gone: the chain was truncated after record 4"),
        ("missing", 7, None, "record 7 (at the end) was deleted"),
        ("missing", 8, None, "record 8 was signed as the chain head but is gone: the chain was truncated after record 4"),
    ]
