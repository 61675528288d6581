"""The hash chain on SQLite and PostgreSQL: every kind of tampering is detected and located."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from ledger import ProblemKind, append_many, verify_chain
from ledger.integrity import ChainBroken
from tests.support.ledger import make_entry


@pytest.fixture
def chained(ledger_with_roster):
    records = append_many(ledger_with_roster, [make_entry(n=i) for i in range(1, 11)])
    return ledger_with_roster, records


def _sql(store, statement, **params):
    with store.engine.begin() as conn:
        conn.execute(text(statement), params)


def test_intact_chain_reports_no_problem(chained):
    store, records = chained
    report = verify_chain(store)
    assert report.intact
    assert (report.records, report.head_seq, report.head_hash) == (10, 10, records[-1].hash)
    report.require_intact()
    assert [r.seq for r in records] == list(range(1, 11))
    assert records[0].prev_hash == "0" * 64 and records[1].prev_hash == records[0].hash


def test_changed_field_is_located(chained):
    store, records = chained
    _sql(store, "UPDATE ledger_records SET indication = 'TOTAL_FAILED' WHERE seq = 4")
    report = verify_chain(store)
    assert [(p.kind, p.seq, p.record_id) for p in report.problems] == [(ProblemKind.CHANGED, 4, records[3].record_id)]
    assert report.problems[0].en == f"record 4 ({records[3].record_id}) was changed: its content does not match its hash"
    with pytest.raises(ChainBroken) as caught:
        report.require_intact()
    assert "record 4" in caught.value.en


def test_changed_field_with_rewritten_hash_is_located(chained):
    store, records = chained
    # An attacker who recomputes the hash of the record he changed still breaks the link of the next one.
    from ledger.entries import record_hash

    content = records[4].to_json()
    content["signer_identifiers"] = ";".join(content["signer_identifiers"])
    content["signer_name"] = "Kẻ giả mạo"
    forged = record_hash(records[4].prev_hash, {k: content[k] for k in records[4].HASHED})
    _sql(store, "UPDATE ledger_records SET signer_name = 'Kẻ giả mạo', hash = :h WHERE seq = 5", h=forged)
    problems = verify_chain(store).problems
    assert [(p.kind, p.seq) for p in problems] == [(ProblemKind.CHANGED, 5)]
    assert problems[0].record_id == records[4].record_id


def test_deleted_record_is_located(chained):
    store, records = chained
    _sql(store, "DELETE FROM ledger_records WHERE seq = 6")
    problems = verify_chain(store).problems
    assert [(p.kind, p.seq, p.record_id) for p in problems] == [(ProblemKind.MISSING, 6, None)]
    assert problems[0].en == "record 6 was deleted"


def test_deleted_first_and_last_records_are_located(chained):
    store, _ = chained
    _sql(store, "DELETE FROM ledger_records WHERE seq IN (1, 10)")
    problems = verify_chain(store).problems
    assert [(p.kind, p.seq) for p in problems] == [(ProblemKind.MISSING, 1), (ProblemKind.MISSING, 10)]
    assert problems[1].en == "record 10 (at the end) was deleted"


def test_inserted_record_in_the_middle_is_located(chained):
    store, records = chained
    # Make room at seq 4 (highest first, so the primary key never collides) and insert a forged record.
    for seq in range(10, 3, -1):
        _sql(store, "UPDATE ledger_records SET seq = :new WHERE seq = :old", new=seq + 1, old=seq)
    _sql(
        store,
        "INSERT INTO ledger_records (seq, record_id, recorded_at, event, agency_code, signature_kind, certificate_serial,"
        " signer_name, signer_identifiers, signed_digest, signing_time, signing_time_source, indication, prev_hash, hash)"
        " VALUES (4, 'f0f0', '2025-08-05T02:00:00.000000Z', 'signed', 'H26.10', 'personal', 'beef', 'Giả', '',"
        " :d, '2025-08-05T02:00:00.000000Z', 'claimed', 'TOTAL_PASSED', :p, :h)",
        d="e" * 64, p=records[2].hash, h="f" * 64,
    )
    problems = verify_chain(store).problems
    assert [(p.kind, p.seq, p.record_id) for p in problems] == [(ProblemKind.INSERTED, 4, "f0f0")]


def test_inserted_record_with_valid_hash_in_the_middle_is_located(chained):
    store, records = chained
    from ledger.entries import content_of, record_hash

    from tests.support.ledger import utc

    for seq in range(10, 6, -1):
        _sql(store, "UPDATE ledger_records SET seq = :new WHERE seq = :old", new=seq + 1, old=seq)
    content = content_of(make_entry(n=99), record_id="abad1dea", recorded_at=utc(2025, 8, 6))
    forged = record_hash(records[5].hash, content)
    columns = ", ".join(content)
    _sql(
        store,
        f"INSERT INTO ledger_records (seq, prev_hash, hash, {columns}) VALUES (7, :prev, :hash, {', '.join(':' + k for k in content)})",
        prev=records[5].hash, hash=forged, **content,
    )
    problems = verify_chain(store).problems
    assert [(p.kind, p.seq, p.record_id) for p in problems] == [(ProblemKind.INSERTED, 7, "abad1dea")]


def test_record_appended_behind_the_head_is_located(chained):
    store, records = chained
    from ledger.entries import content_of, record_hash

    from tests.support.ledger import utc

    content = content_of(make_entry(n=77), record_id="a11a", recorded_at=utc(2025, 8, 6))
    columns = ", ".join(content)
    _sql(
        store,
        f"INSERT INTO ledger_records (seq, prev_hash, hash, {columns}) VALUES (11, :prev, :hash, {', '.join(':' + k for k in content)})",
        prev=records[-1].hash, hash=record_hash(records[-1].hash, content), **content,
    )
    problems = verify_chain(store).problems
    assert [(p.kind, p.seq, p.record_id) for p in problems] == [(ProblemKind.INSERTED, 11, "a11a")]
    assert problems[0].en == "record 11 was added after the last acknowledged record (10)"


def test_reordered_records_are_located(chained):
    store, records = chained
    _sql(store, "UPDATE ledger_records SET seq = 100 WHERE seq = 3")
    _sql(store, "UPDATE ledger_records SET seq = 3 WHERE seq = 4")
    _sql(store, "UPDATE ledger_records SET seq = 4 WHERE seq = 100")
    problems = verify_chain(store).problems
    assert [(p.kind, p.seq, p.record_id) for p in problems] == [
        (ProblemKind.REORDERED, 3, records[3].record_id),
        (ProblemKind.REORDERED, 4, records[2].record_id),
    ]
    assert problems[0].en == f"record 3 ({records[3].record_id}) was moved: it belongs right after record 4"


def test_each_problem_of_a_multiply_tampered_chain_is_located(chained):
    store, records = chained
    _sql(store, "UPDATE ledger_records SET signing_time = '2025-08-05T01:00:00.000000Z' WHERE seq = 2")
    _sql(store, "DELETE FROM ledger_records WHERE seq = 8")
    problems = verify_chain(store).problems
    assert [(p.kind, p.seq) for p in problems] == [(ProblemKind.CHANGED, 2), (ProblemKind.MISSING, 8)]


def test_a_consistently_rewritten_chain_is_caught_by_a_published_anchor(chained):
    store, records = chained
    from ledger.chain import chain_head
    from ledger.entries import hash_of_row

    anchor = chain_head(store)
    assert anchor == (10, records[-1].hash)
    # Rewrite record 3 and re-hash it and every later record, head included: internally consistent again.
    _sql(store, "UPDATE ledger_records SET signer_name = 'Kẻ giả mạo' WHERE seq = 3")
    from sqlalchemy import select

    from ledger.models import Record

    with store.transaction() as session:
        prev = records[1].hash
        for row in session.scalars(select(Record).where(Record.seq >= 3).order_by(Record.seq)):
            row.prev_hash = prev
            row.hash = hash_of_row(row)
            prev = row.hash
        session.flush()
    _sql(store, "UPDATE ledger_chain_head SET last_hash = :h", h=prev)
    assert verify_chain(store).intact  # nothing inside the database can tell
    problems = verify_chain(store, anchors=[anchor, (2, records[1].hash)]).problems
    assert [(p.kind, p.seq) for p in problems] == [(ProblemKind.CHANGED, 10)]
    assert problems[0].en == f"record 10 ({records[-1].record_id}) differs from its anchored hash: the chain was rewritten"


def test_a_correction_is_a_new_record_and_the_old_one_stays(ledger_with_roster):
    from ledger import InvalidValue, UnknownRecord, correct_record, records_of_document
    from ledger.chain import effective_records

    store = ledger_with_roster
    first = append_many(store, [make_entry(n=1)])[0]
    fixed = correct_record(store, first.record_id, indication="TOTAL_FAILED", sub_indication="REVOKED",
                           note="chứng thư bị thu hồi trước thời điểm ký")
    assert (fixed.seq, fixed.event, fixed.corrects, fixed.indication) == (2, "correction", first.record_id, "TOTAL_FAILED")
    assert (fixed.signed_digest, fixed.signing_time, fixed.signer_identifiers) == (
        first.signed_digest, first.signing_time, first.signer_identifiers)
    again = correct_record(store, fixed.record_id, indication="TOTAL_PASSED", sub_indication=None, note="CRL cũ, kiểm tra lại")
    assert [r.record_id for r in effective_records([first, fixed, again])] == [again.record_id]
    assert verify_chain(store).intact and verify_chain(store).records == 3
    with pytest.raises(UnknownRecord):
        correct_record(store, "f" * 32, note="x")
    with pytest.raises(InvalidValue) as caught:
        correct_record(store, first.record_id, note="x", seq=5)
    assert caught.value.en == "cannot correct field(s) seq"
    with pytest.raises(InvalidValue):
        correct_record(store, first.record_id, note=" ")
    assert records_of_document(store, 1) == []
