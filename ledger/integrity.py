"""Checking the hash chain: re-hash every record, follow the links, and say what was changed, deleted, inserted or
reordered, and where (sequence number and record id). Reports return, gates raise (`ChainReport.require_intact`).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Iterable

from sqlalchemy import select

from ledger.entries import LedgerRecord, hash_of_row
from ledger.errors import LedgerError
from ledger.models import ChainHead, Record
from ledger.store import GENESIS_HASH, Store, translated_errors
class ProblemKind(enum.Enum):
    CHANGED = "changed"  # a record's content no longer matches its hash, or it was rewritten
    MISSING = "missing"  # a record was deleted
    INSERTED = "inserted"  # a record that the chain does not link to was added
    REORDERED = "reordered"  # records were moved to other places of the sequence


@dataclass(frozen=True)
class ChainProblem:
    kind: ProblemKind
    seq: int  # where: the sequence number concerned
    record_id: str | None  # the record concerned, when it is still there
    vi: str
    en: str

    def to_json(self) -> dict:
        return {"kind": self.kind.value, "seq": self.seq, "record_id": self.record_id, "message_vi": self.vi, "message_en": self.en}


@dataclass(frozen=True)
class ChainReport:
    """The outcome of `verify_chain`: reports return, gates raise (`require_intact`)."""

    records: int
    head_seq: int
    head_hash: str
    problems: tuple[ChainProblem, ...] = field(default=())

    @property
    def intact(self) -> bool:
        return not self.problems

    def require_intact(self) -> None:
        if self.problems:
            raise ChainBroken(self)

    def to_json(self) -> dict:
        return {
            "intact": self.intact,
            "records": self.records,
            "head": {"seq": self.head_seq, "hash": self.head_hash},
            "problems": [p.to_json() for p in self.problems],
        }


class ChainBroken(LedgerError):
    def __init__(self, report: ChainReport):
        self.report = report
        first = report.problems[0]
        super().__init__(
            f"sổ cái bị thay đổi ({len(report.problems)} vấn đề), đầu tiên: {first.vi}",
            f"the ledger was tampered with ({len(report.problems)} problem(s)), first: {first.en}",
        )


@dataclass
class _Seen:
    seq: int
    record_id: str | None
    hash: str


@dataclass
class _Anomaly:
    row: _Seen
    prev: _Seen
    prev_hash: str  # what the row claims to follow
    content_ok: bool
    next_prev_hash: str | None = None  # what the next row claims to follow


_COLUMNS = [getattr(Record, name) for name in ("seq", "prev_hash", "hash", *LedgerRecord.HASHED)]


def verify_chain(store: Store, *, anchors: Iterable[tuple[int, str]] = (), batch: int = 5000) -> ChainReport:
    """Re-hash every record in sequence order and follow the links; say what was changed, deleted, inserted
    or reordered, and where. Streams the records: memory does not grow with the ledger.

    `anchors` are (seq, hash) pairs published earlier (`chain_head`): someone able to rewrite the whole
    table and its head can make a consistent new chain, but not one that matches hashes kept elsewhere."""
    genesis = _Seen(0, None, GENESIS_HASH)
    anomalies: list[_Anomaly] = []
    count = 0
    # One snapshot for the head and the records: appends committed meanwhile are not half seen.
    with translated_errors(), store.snapshot() as connection:
        head_seq, head_hash = connection.execute(
            select(ChainHead.last_seq, ChainHead.last_hash).where(ChainHead.id == 1)
        ).one()
        result = connection.execution_options(stream_results=True, yield_per=batch).execute(
            select(*_COLUMNS).order_by(Record.seq)
        )
        prev = genesis
        pending: _Anomaly | None = None
        anchored = dict(anchors)
        anchor_seen: dict[int, _Seen] = {}
        for row in result:
            count += 1
            if pending is not None:
                pending.next_prev_hash = row.prev_hash
                pending = None
            content_ok = hash_of_row(row) == row.hash
            seen = _Seen(row.seq, row.record_id, row.hash)
            if row.seq in anchored:
                anchor_seen[row.seq] = seen
            if not content_ok or row.prev_hash != prev.hash or row.seq != prev.seq + 1:
                pending = _Anomaly(seen, prev, row.prev_hash, content_ok)
                anomalies.append(pending)
            prev = seen
        last = prev
        wanted = {a.prev_hash for a in anomalies} | {head_hash}
        located = _locate(connection, wanted)
    problems = _classify(anomalies, located, last=last, head_seq=head_seq, head_hash=head_hash)
    flagged = {p.seq for p in problems}
    for seq, digest in sorted(anchored.items()):
        seen = anchor_seen.get(seq)
        if seq in flagged or (seen is not None and seen.hash == digest):
            continue
        if seen is None:
            problems.append(ChainProblem(ProblemKind.MISSING, seq, None, f"bản ghi {seq} đã được neo nhưng không còn trong sổ",
                                         f"anchored record {seq} is no longer in the ledger"))
        else:
            problems.append(ChainProblem(ProblemKind.CHANGED, seq, seen.record_id,
                                         f"bản ghi {seq} ({seen.record_id}) khác giá trị băm đã neo: chuỗi đã bị viết lại",
                                         f"record {seq} ({seen.record_id}) differs from its anchored hash: the chain was rewritten"))
    problems.sort(key=lambda p: p.seq)
    return ChainReport(records=count, head_seq=head_seq, head_hash=head_hash, problems=tuple(problems))


def _locate(connection, hashes: set[str]) -> dict[str, _Seen]:
    found: dict[str, _Seen] = {}
    wanted = sorted(h for h in hashes if h != GENESIS_HASH)
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        for seq, record_id, digest in connection.execute(
            select(Record.seq, Record.record_id, Record.hash).where(Record.hash.in_(chunk))
        ):
            found[digest] = _Seen(seq, record_id, digest)
    return found


def _classify(anomalies: list[_Anomaly], located: dict[str, _Seen], *, last: _Seen, head_seq: int, head_hash: str) -> list[ChainProblem]:
    problems: dict[int, ChainProblem] = {}

    def report(kind: ProblemKind, seq: int, record_id: str | None, vi: str, en: str) -> None:
        problems.setdefault(seq, ChainProblem(kind, seq, record_id, vi, en))

    for a in anomalies:
        r, q = a.row, a.prev
        if not a.content_ok:
            if a.next_prev_hash == q.hash:  # the next record skips this one: it was slipped in
                report(ProblemKind.INSERTED, r.seq, r.record_id,
                       f"bản ghi {r.seq} ({r.record_id}) được chèn vào: chuỗi nối bản ghi {q.seq} với bản ghi sau nó",
                       f"record {r.seq} ({r.record_id}) was inserted: the chain links record {q.seq} to the record after it")
            else:
                report(ProblemKind.CHANGED, r.seq, r.record_id,
                       f"nội dung bản ghi {r.seq} ({r.record_id}) đã bị sửa: không khớp giá trị băm",
                       f"record {r.seq} ({r.record_id}) was changed: its content does not match its hash")
            continue
        p = located.get(a.prev_hash) if a.prev_hash != GENESIS_HASH else _Seen(0, None, GENESIS_HASH)
        if p is None:
            if r.seq != q.seq + 1:
                for seq in range(q.seq + 1, r.seq):
                    report(ProblemKind.MISSING, seq, None,
                           f"bản ghi {seq} đã bị xóa", f"record {seq} was deleted")
            else:
                report(ProblemKind.CHANGED, q.seq, q.record_id,
                       f"bản ghi {q.seq} ({q.record_id}) đã bị viết lại hoặc một bản ghi trước {r.seq} đã bị xóa: "
                       f"bản ghi {r.seq} nối với giá trị băm {a.prev_hash[:16]}… không còn trong sổ",
                       f"record {q.seq} ({q.record_id}) was rewritten, or a record before {r.seq} was deleted: "
                       f"record {r.seq} follows hash {a.prev_hash[:16]}… which is no longer in the ledger")
        elif p.seq > r.seq or (p.seq == q.seq and r.seq != q.seq + 1):
            report(ProblemKind.REORDERED, r.seq, r.record_id,
                   f"bản ghi {r.seq} ({r.record_id}) bị đổi chỗ: nó phải đứng sau bản ghi {p.seq}",
                   f"record {r.seq} ({r.record_id}) was moved: it belongs right after record {p.seq}")
        elif p.seq < q.seq:
            moved = lambda seq: seq in problems and problems[seq].kind is ProblemKind.REORDERED  # noqa: E731
            if moved(p.seq):
                pass  # r rightly follows a record that was itself moved: that move is already reported
            elif any(moved(seq) for seq in range(p.seq + 1, r.seq)):
                report(ProblemKind.REORDERED, r.seq, r.record_id,
                       f"bản ghi {r.seq} ({r.record_id}) bị đổi chỗ: nó phải đứng sau bản ghi {p.seq}",
                       f"record {r.seq} ({r.record_id}) was moved: it belongs right after record {p.seq}")
            else:
                for seq in range(p.seq + 1, r.seq):
                    report(ProblemKind.INSERTED, seq, q.record_id if seq == q.seq else None,
                           f"bản ghi {seq} được chèn vào: chuỗi nối bản ghi {p.seq} thẳng tới bản ghi {r.seq}",
                           f"record {seq} was inserted: the chain links record {p.seq} directly to record {r.seq}")
        elif r.seq != q.seq + 1:
            for seq in range(q.seq + 1, r.seq):
                report(ProblemKind.MISSING, seq, None, f"bản ghi {seq} đã bị xóa", f"record {seq} was deleted")
    # The head remembers the last record: a truncated or extended tail shows here.
    if last.hash == head_hash and last.seq != head_seq:
        if not problems:
            report(ProblemKind.REORDERED, last.seq, last.record_id,
                   f"các bản ghi bị đánh số lại: bản ghi cuối ở vị trí {last.seq}, đầu chuỗi ghi {head_seq}",
                   f"records were renumbered: the last record is at {last.seq}, the chain head says {head_seq}")
    elif last.hash != head_hash:
        h = located.get(head_hash)
        if h is not None and h.seq < last.seq:
            for seq in range(h.seq + 1, last.seq + 1):
                report(ProblemKind.INSERTED, seq, last.record_id if seq == last.seq else None,
                       f"bản ghi {seq} được thêm sau bản ghi cuối đã ghi nhận ({h.seq})",
                       f"record {seq} was added after the last acknowledged record ({h.seq})")
        elif h is None and head_seq > last.seq:
            for seq in range(last.seq + 1, head_seq + 1):
                report(ProblemKind.MISSING, seq, None, f"bản ghi {seq} (cuối sổ) đã bị xóa", f"record {seq} (at the end) was deleted")
        else:
            report(ProblemKind.CHANGED, last.seq, last.record_id,
                   f"bản ghi cuối {last.seq} không khớp đầu chuỗi (bản ghi {head_seq})",
                   f"the last record {last.seq} does not match the chain head (record {head_seq})")
    return [problems[seq] for seq in sorted(problems)]
