"""Issue 9, item 10, on SQLite and PostgreSQL: document registrations, final numbers and signed-file rows are in
the hash chain (records of event "covered", ledger.covered); changing, deleting or inserting such a row in SQL
is located by `verify_chain` with the record that covered it, as for signature records."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select, text

from ledger import (
    Direction,
    DocumentDraft,
    HeadSeal,
    ProblemKind,
    SqlNumberAllocator,
    append,
    issue_number,
    link_signed_file,
    mark_returned,
    register_document,
    verify_chain,
)
from ledger.covered import cover_existing, uncovered_in
from ledger.models import Record
from ledger.numbering import finalize_in
from signer.keys import InMemoryKey
from tests.support.ledger import DEPARTMENT, make_entry, utc

FILE_DIGEST = "ab" * 32


def _sql(store, statement, **params):
    with store.engine.begin() as conn:
        conn.execute(text(statement), params)


def _covering(store, key: str) -> tuple[int, str]:
    """(seq, record_id) of the latest record covering `key`."""
    with store.transaction() as session:
        return tuple(session.execute(select(Record.seq, Record.record_id).where(Record.covers == key)
                                     .order_by(Record.seq.desc()).limit(1)).one())


def _problems(report):
    return [(p.kind, p.seq, p.row) for p in report.problems]


@pytest.fixture
def covered(ledger_with_roster):
    """A sealed ledger with an outgoing document numbered at issuing, its signature and its signed file, and an
    incoming document."""
    store = ledger_with_roster
    store.head_seal = HeadSeal(InMemoryKey.generate_ec())
    outgoing = register_document(store, DocumentDraft(agency_code=DEPARTMENT, direction=Direction.OUTGOING,
                                                      dated_at=utc(2025, 8, 4, 3), doc_type="Quyết định",
                                                      title="Về việc phê duyệt kế hoạch", external_id="QLVB-1"))
    outgoing = issue_number(store, outgoing.id, issued_at=utc(2025, 8, 5, 3))
    append(store, make_entry(document_id=outgoing.id, n=1))
    signed_file = link_signed_file(store, outgoing.id, digest=FILE_DIGEST, size=1234, filename="qd.pdf")
    incoming = register_document(store, DocumentDraft(agency_code=DEPARTMENT, direction=Direction.INCOMING,
                                                      dated_at=utc(2025, 8, 6, 3), doc_type="Công văn",
                                                      title="Công văn đến", counterpart_code="H26"))
    return store, outgoing, signed_file, incoming


def test_registrations_numbers_and_signed_files_are_covered_and_intact(covered):
    store, outgoing, signed_file, incoming = covered
    report = verify_chain(store)
    assert report.intact, report.problems
    # register + issue_number (document twice), the final number, the signature, the file, the incoming one.
    assert report.records == 6
    with store.transaction() as session:
        assert list(session.scalars(select(Record.covers).order_by(Record.seq))) == [
            f"document:{outgoing.id}", "number:1", f"document:{outgoing.id}", None, f"signed_file:{signed_file.id}",
            f"document:{incoming.id}"]
        assert uncovered_in(session.connection()) == {"document": [], "number": [], "signed_file": []}
    # A legitimate change through the library is covered again: still intact.
    mark_returned(store, incoming.id, reason="Sai thể thức", returned_at=utc(2025, 8, 7, 3))
    assert verify_chain(store).intact


def test_document_title_changed_in_sql_is_located(covered):
    store, outgoing, _, _ = covered
    seq, record_id = _covering(store, f"document:{outgoing.id}")
    _sql(store, "UPDATE ledger_documents SET title = 'Về việc hủy kế hoạch' WHERE id = :id", id=outgoing.id)
    report = verify_chain(store)
    assert _problems(report) == [(ProblemKind.CHANGED, seq, f"document:{outgoing.id}")]
    problem = report.problems[0]
    assert problem.record_id == record_id
    assert problem.en == f"document {outgoing.id} was changed after record {seq} ({record_id}) covered it"
    assert problem.vi == f"văn bản {outgoing.id} đã bị sửa sau bản ghi {seq} ({record_id}) ghi nhận nó"
    assert report.to_json()["problems"][0]["row"] == f"document:{outgoing.id}"


def test_final_number_changed_in_sql_is_located(covered):
    store, outgoing, _, _ = covered
    document_seq, document_record = _covering(store, f"document:{outgoing.id}")
    number_seq, number_record = _covering(store, "number:1")
    _sql(store, "UPDATE ledger_documents SET number = 7 WHERE id = :id", id=outgoing.id)
    _sql(store, "UPDATE ledger_number_reservations SET number = 7 WHERE id = 1")
    report = verify_chain(store)
    assert _problems(report) == [(ProblemKind.CHANGED, number_seq, "number:1"),
                                 (ProblemKind.CHANGED, document_seq, f"document:{outgoing.id}")]
    assert report.problems[0].en == f"final number 1 was changed after record {number_seq} ({number_record}) covered it"
    assert report.problems[1].en == (f"document {outgoing.id} was changed after record {document_seq} "
                                     f"({document_record}) covered it")


def test_signed_file_digest_changed_in_sql_is_located(covered):
    store, _, signed_file, _ = covered
    seq, record_id = _covering(store, f"signed_file:{signed_file.id}")
    _sql(store, "UPDATE ledger_signed_files SET digest = :d WHERE id = :id", d="cd" * 32, id=signed_file.id)
    report = verify_chain(store)
    assert _problems(report) == [(ProblemKind.CHANGED, seq, f"signed_file:{signed_file.id}")]
    assert report.problems[0].en == f"signed file {signed_file.id} was changed after record {seq} ({record_id}) covered it"


def test_registration_deleted_in_sql_is_located(covered):
    store, _, _, incoming = covered
    seq, record_id = _covering(store, f"document:{incoming.id}")
    _sql(store, "DELETE FROM ledger_documents WHERE id = :id", id=incoming.id)
    report = verify_chain(store)
    assert _problems(report) == [(ProblemKind.MISSING, seq, f"document:{incoming.id}")]
    assert report.problems[0].record_id == record_id
    assert report.problems[0].en == f"document {incoming.id} covered by record {seq} ({record_id}) was deleted"
    assert report.problems[0].vi == f"văn bản {incoming.id} ghi nhận tại bản ghi {seq} ({record_id}) đã bị xóa"


def test_registration_inserted_in_sql_is_reported_as_inserted(covered):
    store, _, _, _ = covered
    _sql(store, "INSERT INTO ledger_documents (id, agency_code, direction, dated_at, year, series, number, doc_type, "
                "secret, electronic, registered_at) VALUES (99, :a, 'outgoing', :t, 2025, 'default', 2, 'Quyết định', "
                ":f, :f, :t)", a=DEPARTMENT, t=datetime(2025, 8, 8, 3), f=False)
    report = verify_chain(store)
    assert _problems(report) == [(ProblemKind.INSERTED, 0, "document:99")]
    assert report.problems[0].en == "document 99 is in no record of the chain: it was added outside the service"
    assert report.problems[0].vi == "văn bản 99 không có bản ghi nào trong chuỗi: được thêm ngoài dịch vụ"


def test_covering_record_rewritten_to_cover_another_row_is_a_changed_record(covered):
    store, outgoing, _, incoming = covered
    seq, record_id = _covering(store, f"document:{incoming.id}")
    _sql(store, "UPDATE ledger_records SET covers = :k WHERE seq = :s", k=f"document:{outgoing.id}", s=seq)
    report = verify_chain(store)
    # The record no longer matches its hash; the row it covered is judged by no record the chain vouches for.
    assert _problems(report)[-1] == (ProblemKind.CHANGED, seq, None)
    assert report.problems[-1].record_id == record_id


def test_reserved_number_finalised_with_the_signature_is_covered(covered):
    store, _, _, _ = covered
    allocator = SqlNumberAllocator(store)
    now = datetime.now(timezone.utc)
    number = allocator.reserve(DEPARTMENT, 2025, holder="session-1", expires_at=now + timedelta(minutes=5), now=now)
    assert number == 2
    with store.transaction() as session:
        assert finalize_in(session, "session-1", now=now, seal=store.head_seal) == [2]
    assert verify_chain(store).intact
    seq, record_id = _covering(store, "number:2")
    _sql(store, "UPDATE ledger_number_reservations SET status = 'released', holder = NULL WHERE id = 2")
    report = verify_chain(store)
    assert _problems(report) == [(ProblemKind.CHANGED, seq, "number:2")]
    assert report.problems[0].en == f"final number 2 was changed after record {seq} ({record_id}) covered it"
    _sql(store, "DELETE FROM ledger_number_reservations WHERE id = 2")
    report = verify_chain(store)
    assert _problems(report) == [(ProblemKind.MISSING, seq, "number:2")]
    assert report.problems[0].en == f"final number 2 covered by record {seq} ({record_id}) was deleted"


def test_rows_of_a_ledger_from_before_covering_are_covered_by_the_administrator(covered):
    store, _, _, _ = covered
    # A row written before migration 0004 (here: by SQL) is covered by no record until an administrator covers it.
    _sql(store, "INSERT INTO ledger_signed_files (id, document_id, digest, size, filename, created_at) "
                "VALUES (50, 1, :d, 10, 'old.pdf', :t)", d="ef" * 32, t=datetime(2025, 1, 1))
    assert _problems(verify_chain(store)) == [(ProblemKind.INSERTED, 0, "signed_file:50")]
    assert cover_existing(store, clock=lambda: utc(2025, 9, 1)) == {"document": 0, "number": 0, "signed_file": 1}
    assert verify_chain(store).intact
    assert cover_existing(store, clock=lambda: utc(2025, 9, 1)) == {"document": 0, "number": 0, "signed_file": 0}
