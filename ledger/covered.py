"""Document registrations, final numbers and signed files in the hash chain (issue 9, item 10).

Every write of a `ledger_documents` row (registration, number issued, returned), of a final number
reservation and of a `ledger_signed_files` row appends, in the same transaction, a record of event `covered`
to the chain: its `covers` names the row ("document:7", "number:12", "signed_file:3") and its `signed_digest`
is the SHA-256 of the row's canonical content (`row_digest`). The latest covering record of a row holds what
the row must be; `verify_chain` compares each row with it, so a row changed, deleted or slipped in by SQL is
named with the record that covered it (`covered_problems`).

Covering records carry no document id (the reports, which join records to documents, never count them) and
no signature: their signature fields hold fixed placeholders (`PLACEHOLDERS`).
"""

from __future__ import annotations

import enum
import hashlib
from datetime import date, datetime
from typing import Callable, Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from ledger.entries import LedgerRecord, RecordEvent, canonical_bytes, format_time
from ledger.models import Document, SignedFile
from ledger.numbering import FINAL, NumberReservation
from ledger.seal import HeadSeal


class CoveredKind(enum.Enum):
    DOCUMENT = "document"
    NUMBER = "number"  # a number reservation that became final
    SIGNED_FILE = "signed_file"


_TABLES = {
    CoveredKind.DOCUMENT: Document.__table__,
    CoveredKind.NUMBER: NumberReservation.__table__,
    CoveredKind.SIGNED_FILE: SignedFile.__table__,
}
# What of a row is covered: every column, except the bookkeeping of a reservation that stops mattering once
# the number is final (holder, expiry, last update).
_COLUMNS = {
    kind: tuple(c.name for c in table.columns if not (kind is CoveredKind.NUMBER and c.name in
                                                       ("holder", "expires_at", "updated_at")))
    for kind, table in _TABLES.items()
}
_NAMES_VI = {CoveredKind.DOCUMENT: "văn bản", CoveredKind.NUMBER: "số văn bản đã cấp", CoveredKind.SIGNED_FILE: "tệp đã ký"}
_NAMES_EN = {CoveredKind.DOCUMENT: "document", CoveredKind.NUMBER: "final number", CoveredKind.SIGNED_FILE: "signed file"}

PLACEHOLDERS = {
    "signature_kind": "unknown", "purpose": None, "certificate_serial": "0", "signer_name": "kyso-ledger",
    "signer_identifiers": "", "signing_time_source": "claimed", "indication": "INDETERMINATE",
    "sub_indication": None, "corrects": None, "note": None, "document_id": None,
}


def _text(value) -> object:
    if isinstance(value, datetime):
        return format_time(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def row_digest(kind: CoveredKind, row) -> str:
    """SHA-256 hex of the canonical JSON of a row's covered columns (times as in records: UTC, `Z`)."""
    get = row.get if isinstance(row, dict) else (lambda name: getattr(row, name))
    content = {name: _text(get(name)) for name in _COLUMNS[kind]}
    if "secret" in content:
        content["secret"], content["electronic"] = bool(content["secret"]), bool(content["electronic"])
    return hashlib.sha256(canonical_bytes(content)).hexdigest()


def cover_key(kind: CoveredKind, row_id: int) -> str:
    return f"{kind.value}:{row_id}"


def cover_in(session: Session | Connection, *, documents: Iterable[int] = (), numbers: Iterable[int] = (),
             numbers_of: str | None = None, signed_files: Iterable[int] = (), seal: HeadSeal | None,
             clock: Callable[[], datetime]) -> list[LedgerRecord]:
    """Append, in the caller's transaction, a covering record for each document id, each final number
    reservation (by id, or all those held by `numbers_of`) and each signed-file id, as the rows stand now
    (flushed first)."""
    from ledger.chain import append_contents_in

    if isinstance(session, Session):
        session.flush()
    wanted: list[tuple[CoveredKind, object]] = []
    for kind, ids in ((CoveredKind.DOCUMENT, sorted(set(documents))), (CoveredKind.NUMBER, sorted(set(numbers))),
                      (CoveredKind.SIGNED_FILE, sorted(set(signed_files)))):
        if ids:
            table = _TABLES[kind]
            wanted.extend((kind, r) for r in session.execute(select(table).where(table.c.id.in_(ids)).order_by(table.c.id)))
    if numbers_of is not None:
        table = _TABLES[CoveredKind.NUMBER]
        wanted.extend((CoveredKind.NUMBER, r) for r in session.execute(
            select(table).where(table.c.holder == numbers_of, table.c.status == FINAL).order_by(table.c.id)))
    agencies = _agencies_of(session, [r.document_id for kind, r in wanted if kind is CoveredKind.SIGNED_FILE])
    builders = []
    for kind, row in wanted:
        agency = agencies[row.document_id] if kind is CoveredKind.SIGNED_FILE else row.agency_code
        builders.append(_builder(cover_key(kind, row.id), row_digest(kind, row), agency))
    return append_contents_in(session, builders, clock=clock, seal=seal)


def _agencies_of(session, document_ids: Sequence[int]) -> dict[int, str]:
    if not document_ids:
        return {}
    table = Document.__table__
    return dict(session.execute(select(table.c.id, table.c.agency_code).where(table.c.id.in_(set(document_ids)))).all())


def covering_content(kind: CoveredKind, row, *, agency_code: str, record_id: str, recorded_at: datetime) -> dict:
    """The hashed content of the record covering `row` (for a bulk writer that hashes records itself)."""
    return _builder(cover_key(kind, row["id"] if isinstance(row, dict) else row.id), row_digest(kind, row),
                    agency_code)(record_id, recorded_at)


def _builder(key: str, digest: str, agency_code: str):
    def build(record_id: str, recorded_at: datetime) -> dict:
        at = format_time(recorded_at)
        return {"record_id": record_id, "recorded_at": at, "event": RecordEvent.COVERED.value,
                "agency_code": agency_code, "signed_digest": digest, "signing_time": at, "covers": key,
                **PLACEHOLDERS}
    return build


def uncovered_in(session: Session | Connection) -> dict[str, list[int]]:
    """Rows no covering record names (those of a ledger from before migration 0004), by kind."""
    from ledger.models import Record

    covered = set(session.scalars(select(Record.covers).where(Record.covers.is_not(None))))
    found: dict[str, list[int]] = {}
    for kind, table in _TABLES.items():
        query = select(table.c.id).order_by(table.c.id)
        if kind is CoveredKind.NUMBER:
            query = query.where(table.c.status == FINAL)
        found[kind.value] = [i for i in session.scalars(query) if cover_key(kind, i) not in covered]
    return found


def cover_existing(store, *, clock: Callable[[], datetime] | None = None) -> dict[str, int]:
    """Cover every row not covered yet (a ledger from before migration 0004): an administrator's act after
    checking the rows, never done automatically. Returns how many rows of each kind were covered."""
    from ledger.chain import append_contents_in, lock_head, utc_now
    from ledger.store import translated_errors

    clock = clock or utc_now
    with translated_errors(), store.engine.begin() as connection:
        lock_head(connection)
        missing = uncovered_in(connection)
        builders = []
        for kind in CoveredKind:
            ids = missing[kind.value]
            table = _TABLES[kind]
            for start in range(0, len(ids), 500):
                rows = list(connection.execute(select(table).where(table.c.id.in_(ids[start:start + 500])).order_by(table.c.id)))
                agencies = _agencies_of(connection, [r.document_id for r in rows]) if kind is CoveredKind.SIGNED_FILE else {}
                for row in rows:
                    agency = agencies[row.document_id] if kind is CoveredKind.SIGNED_FILE else row.agency_code
                    builders.append(_builder(cover_key(kind, row.id), row_digest(kind, row), agency))
        append_contents_in(connection, builders, clock=clock, seal=store.head_seal)
        return {kind: len(ids) for kind, ids in missing.items()}


def covered_problems(connection, covers: dict[str, tuple[int, str | None, str]], *, batch: int = 5000):
    """Compare every covered table with the latest covering record of each row (`covers`: key -> (seq,
    record_id, digest), from the chain walk); yields ChainProblem for each row changed, deleted or uncovered."""
    from ledger.integrity import ChainProblem, ProblemKind

    remaining = dict(covers)
    for kind, table in _TABLES.items():
        # Every reservation is read (a final number turned back into a released one is a change), but only a
        # final one must be covered.
        query = select(table).order_by(table.c.id)
        vi_name, en_name = _NAMES_VI[kind], _NAMES_EN[kind]
        for row in connection.execution_options(stream_results=True, yield_per=batch).execute(query):
            key = cover_key(kind, row.id)
            cover = remaining.pop(key, None)
            if cover is None and kind is CoveredKind.NUMBER and row.status != FINAL:
                continue
            if cover is None:
                yield ChainProblem(ProblemKind.INSERTED, 0, None,
                                   f"{vi_name} {row.id} không có bản ghi nào trong chuỗi: được thêm ngoài dịch vụ",
                                   f"{en_name} {row.id} is in no record of the chain: it was added outside the service",
                                   row=key)
            elif row_digest(kind, row) != cover[2]:
                yield ChainProblem(ProblemKind.CHANGED, cover[0], cover[1],
                                   f"{vi_name} {row.id} đã bị sửa sau bản ghi {cover[0]} ({cover[1]}) ghi nhận nó",
                                   f"{en_name} {row.id} was changed after record {cover[0]} ({cover[1]}) covered it",
                                   row=key)
    for key, (seq, record_id, _digest) in sorted(remaining.items(), key=lambda item: item[1][0]):
        kind_text, _, row_id = key.partition(":")
        kind = CoveredKind(kind_text)
        yield ChainProblem(ProblemKind.MISSING, seq, record_id,
                           f"{_NAMES_VI[kind]} {row_id} ghi nhận tại bản ghi {seq} ({record_id}) đã bị xóa",
                           f"{_NAMES_EN[kind]} {row_id} covered by record {seq} ({record_id}) was deleted",
                           row=key)
