"""Appending to the hash chain (checking it: ledger.integrity).

Appends are serialised on the single `ledger_chain_head` row: the first statement of an append updates it,
which takes the row lock on PostgreSQL (as `SELECT ... FOR UPDATE` would) and the database write lock on
SQLite (the first write of a transaction; the engine from `ledger.store` waits up to 60 s for it). The
record and the new head are written in the same transaction, so an acknowledged append is in the chain and
an unacknowledged one is not.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Callable, Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from ledger.entries import (
    LedgerEntry,
    LedgerRecord,
    RecordEvent,
    content_of,
    record_hash,
)
from ledger.errors import UnknownDocument, UnknownRecord
from ledger.models import ChainHead, Document, Record, SignedHeadRow
from ledger.seal import HeadSeal, SignedHead
from ledger.store import Store

Clock = Callable[[], datetime]
_HEAD = ChainHead.__table__


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def append(store: Store, entry: LedgerEntry, *, clock: Clock = utc_now) -> LedgerRecord:
    """Append one entry to the chain; returns the stored record (its seq, record_id and hash)."""
    return append_many(store, [entry], clock=clock)[0]


def append_many(store: Store, entries: Sequence[LedgerEntry], *, clock: Clock = utc_now) -> list[LedgerRecord]:
    """Append entries in one transaction, in order: all of them or none."""
    from ledger.store import translated_errors

    # A Core connection, not an ORM session: appending is the hot path of the service.
    with translated_errors(), store.engine.begin() as connection:
        return append_in(connection, entries, clock=clock, seal=store.head_seal)


def append_in(session: Session | Connection, entries: Sequence[LedgerEntry], *, seal: HeadSeal | None,
              clock: Clock = utc_now) -> list[LedgerRecord]:
    """Append within the caller's session or connection (for a caller that must commit the records together
    with its own writes). Locks the chain head until that transaction commits or rolls back. With `seal` (the
    store's `head_seal`), the new head is signed in the same transaction (ledger.seal). `seal` has no default
    on purpose: a caller that forgot it would write records that no signed head covers (reported as
    inserted by verify_chain), so each caller says which seal it uses, or None for an unsealed ledger."""
    if not entries:
        return []
    return append_contents_in(session, [lambda record_id, recorded_at, e=e: content_of(e, record_id=record_id,
                                                                                       recorded_at=recorded_at)
                                        for e in entries],
                              clock=clock, seal=seal, check=lambda: _check_references(session, entries))


def append_contents_in(session: Session | Connection, builders: Sequence[Callable[[str, datetime], dict]], *,
                       clock: Clock = utc_now, seal: HeadSeal | None = None,
                       check: Callable[[], None] | None = None) -> list[LedgerRecord]:
    """Append records whose hashed content `builders` make from (record_id, recorded_at), with the head
    locked first (then `check` runs under the lock); the common path of `append_in` and ledger.covered."""
    if not builders:
        return []
    # One statement takes the lock and reads the head (RETURNING: SQLite >= 3.35, PostgreSQL).
    last_seq, last_hash = session.execute(
        _HEAD.update().where(_HEAD.c.id == 1).values(last_seq=_HEAD.c.last_seq)
        .returning(_HEAD.c.last_seq, _HEAD.c.last_hash)
    ).one()
    if check is not None:
        check()
    records: list[LedgerRecord] = []
    for build in builders:
        content = build(uuid.uuid4().hex, clock())
        digest = record_hash(last_hash, content)
        last_seq += 1
        records.append(LedgerRecord(seq=last_seq, prev_hash=last_hash, hash=digest, **content))
        last_hash = digest
    session.execute(Record.__table__.insert(), [_row(r) for r in records])
    session.execute(_HEAD.update().where(_HEAD.c.id == 1).values(last_seq=last_seq, last_hash=last_hash))
    if seal is not None:
        _store_signed_head(session, seal.sign(last_seq, last_hash, now=clock()))
    return records


def _store_signed_head(session: Session | Connection, head: SignedHead) -> None:
    session.execute(SignedHeadRow.__table__.insert(), [{
        "seq": head.seq, "hash": head.hash, "signed_at": head.signed_at, "key_sha256": head.key_sha256,
        "scheme": head.scheme, "signature": head.signature}])


def seal_current_head(store: Store, *, clock: Clock = utc_now) -> SignedHead:
    """Sign the current head with the store's seal (once, when sealing starts on a ledger that has records):
    an administrator's act after checking the chain, never done automatically."""
    from ledger.errors import InvalidValue
    from ledger.store import translated_errors

    if store.head_seal is None:
        raise InvalidValue("sổ cái chưa cấu hình khóa ký đầu chuỗi", "the ledger has no head seal configured")
    with translated_errors(), store.engine.begin() as connection:
        last_seq, last_hash = connection.execute(
            _HEAD.update().where(_HEAD.c.id == 1).values(last_seq=_HEAD.c.last_seq)
            .returning(_HEAD.c.last_seq, _HEAD.c.last_hash)
        ).one()
        head = store.head_seal.sign(last_seq, last_hash, now=clock())
        existing = SignedHeadRow.__table__
        connection.execute(existing.delete().where(existing.c.seq == last_seq))
        _store_signed_head(connection, head)
        return head


def lock_head(session: Session | Connection) -> None:
    """Take the chain's append lock (held until the session's transaction ends)."""
    session.execute(_HEAD.update().where(_HEAD.c.id == 1).values(last_seq=_HEAD.c.last_seq))


def _row(record: LedgerRecord) -> dict:
    return {name: getattr(record, name) for name in LedgerRecord.__dataclass_fields__}


def _check_references(session: Session, entries: Sequence[LedgerEntry]) -> None:
    document_ids = {e.document_id for e in entries if e.document_id is not None}
    if document_ids:
        documents = Document.__table__
        found = set(session.scalars(select(documents.c.id).where(documents.c.id.in_(document_ids))))
        for missing in sorted(document_ids - found):
            raise UnknownDocument(missing)
    corrected = {e.corrects for e in entries if e.corrects is not None}
    if corrected:
        records = Record.__table__
        found = set(session.scalars(select(records.c.record_id).where(records.c.record_id.in_(corrected))))
        for missing in sorted(corrected - found):
            raise UnknownRecord(missing)


def correct_record(store: Store, record_id: str, *, note: str, clock: Clock = utc_now, **changes) -> LedgerRecord:
    """Append a correction of `record_id`: a new record carrying the old one's fields with `changes` applied
    (e.g. `indication="TOTAL_FAILED", sub_indication="REVOKED"`) and the reason in `note`. The corrected
    record stays in the chain; reports use the latest correction."""
    from ledger.entries import Indication, SignatureKind, TimeSource, parse_time

    if not note or not note.strip():
        from ledger.errors import InvalidValue

        raise InvalidValue("cần lý do đính chính", "a correction needs a reason (note)")
    old = get_record(store, record_id)
    fields = dict(
        agency_code=old.agency_code,
        signature_kind=SignatureKind(old.signature_kind),
        certificate_serial=old.certificate_serial,
        signer_name=old.signer_name,
        signed_digest=old.signed_digest,
        signing_time=parse_time(old.signing_time),
        signing_time_source=TimeSource(old.signing_time_source),
        indication=Indication(old.indication),
        sub_indication=old.sub_indication,
        signer_identifiers=tuple(old.signer_identifiers.split(";")) if old.signer_identifiers else (),
        document_id=old.document_id,
        purpose=old.purpose,
    )
    unknown = sorted(set(changes) - set(fields))
    if unknown:
        from ledger.errors import InvalidValue

        raise InvalidValue(f"không đính chính được trường {', '.join(unknown)}", f"cannot correct field(s) {', '.join(unknown)}")
    fields.update(changes)
    entry = LedgerEntry(event=RecordEvent.CORRECTION, corrects=record_id, note=note.strip(), **fields)
    return append(store, entry, clock=clock)


def records_of_document(store: Store, document_id: int) -> list[LedgerRecord]:
    with store.transaction() as session:
        rows = session.scalars(select(Record).where(Record.document_id == document_id).order_by(Record.seq))
        return [LedgerRecord.from_row(r) for r in rows]


def get_record(store: Store, record_id: str) -> LedgerRecord:
    with store.transaction() as session:
        row = session.scalar(select(Record).where(Record.record_id == record_id))
        if row is None:
            raise UnknownRecord(record_id)
        return LedgerRecord.from_row(row)


def chain_head(store: Store) -> tuple[int, str]:
    """(last seq, last hash): publish it elsewhere to anchor the chain against a full rewrite."""
    with store.transaction() as session:
        return tuple(session.execute(select(ChainHead.last_seq, ChainHead.last_hash).where(ChainHead.id == 1)).one())


def effective_records(records: Iterable[LedgerRecord]) -> list[LedgerRecord]:
    """Records with every corrected one replaced by its latest correction (a correction is a new record
    naming the old one; both stay in the chain)."""
    ordered = sorted(records, key=lambda r: r.seq)
    replaced: dict[str, str] = {}
    for r in ordered:
        if r.event == RecordEvent.CORRECTION.value and r.corrects:
            replaced[r.corrects] = r.record_id
    return [r for r in ordered if r.record_id not in replaced]
