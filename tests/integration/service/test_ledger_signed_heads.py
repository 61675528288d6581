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
    assert heads == [(1, "rsassa_pkcs1v15"), (2, "rsassa_pkcs1v15")]
    reader = signing_world.api("reader")
    assert reader.get("/api/v1/ledger/verify").json["intact"] is True
    with store.engine.begin() as connection:
        first_hash = connection.execute(text("SELECT hash FROM ledger_records WHERE seq = 1")).scalar_one()
        connection.execute(text("DELETE FROM ledger_records WHERE seq = 2"))
        connection.execute(text("UPDATE ledger_chain_head SET last_seq = 1, last_hash = :h"), {"h": first_hash})
    report = reader.get("/api/v1/ledger/verify").json
    assert report["intact"] is False
    assert [(p["kind"], p["seq"], p["message_en"]) for p in report["problems"]] == [
        ("changed", 1, "the chain head was moved back to record 1; record 2 was signed as the head"),
        ("missing", 2, "record 2 was signed as the chain head but is gone: the chain was truncated after record 1"),
    ]
