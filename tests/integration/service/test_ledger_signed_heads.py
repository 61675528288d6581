"""Issue 9, item 10, through the service: its seal (the receipt signer) signs the chain head of every record it
appends, and `GET /api/v1/ledger/verify` catches a truncated chain with its head moved back, without any
anchor. On SQLite and PostgreSQL."""

import pytest
from sqlalchemy import select, text

from ledger.models import SignedHeadRow
from tests.integration.service.test_signing_flow import B64, register, sign_through_service
from tests.support.documents import seal_png, signature_png

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


def test_a_signed_documents_title_number_and_file_changed_in_sql_are_located_by_the_service(signing_world, pki):
    """Covered rows (ledger.covered) through the service: the document the service signed and numbered, its final
    number and its stored file are in the chain; changing them in SQL is named with the record that covered them."""
    api = signing_world.api("dms")
    document = register(api)
    _session, approved = sign_through_service(api, pki.official_rsa, kind="approve", document_id=document["id"],
                                              signature_image=B64(signature_png()))
    assert approved.status_code == 200, approved.json
    _session, done = sign_through_service(api, pki.agency_rsa, kind="issue", document_id=document["id"],
                                          seal_image=B64(seal_png()), series="QĐ-UBND")
    assert done.status_code == 200, done.json
    reader = signing_world.api("reader")
    assert reader.get("/api/v1/ledger/verify").json["intact"] is True
    store = signing_world.app.extensions["kyso"].components.ledger
    with store.transaction() as session:
        covering = {row.covers: (row.seq, row.record_id) for row in
                    session.execute(text("SELECT covers, seq, record_id FROM ledger_records WHERE covers IS NOT NULL "
                                         "ORDER BY seq"))}
    doc_key = f"document:{document['id']}"
    assert sorted(covering) == [doc_key, "number:1", "signed_file:1", "signed_file:2"]
    with store.engine.begin() as connection:
        connection.execute(text("UPDATE ledger_documents SET title = 'Về việc khác', number = 9 WHERE id = :id"),
                           {"id": document["id"]})
        connection.execute(text("UPDATE ledger_number_reservations SET number = 9 WHERE id = 1"))
        connection.execute(text("UPDATE ledger_signed_files SET digest = :d WHERE id = 2"), {"d": "0" * 64})
    report = reader.get("/api/v1/ledger/verify").json
    assert report["intact"] is False
    expected = [
        ("changed", covering[key][0], key,
         f"{name} {row_id} was changed after record {covering[key][0]} ({covering[key][1]}) covered it")
        for key, name, row_id in ((doc_key, "document", document["id"]), ("number:1", "final number", 1),
                                  ("signed_file:2", "signed file", 2))]
    assert [(p["kind"], p["seq"], p["row"], p["message_en"]) for p in report["problems"]] == sorted(expected, key=lambda e: e[1])
