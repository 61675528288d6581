"""Checking the hash chain: re-hash every record, follow the links, and say what was changed, deleted, inserted or
reordered, and where (sequence number and record id). Reports return, gates raise (`ChainReport.require_intact`).
"""

from __future__ import annotations

import collections
import enum
from dataclasses import dataclass, field
from typing import Iterable

from sqlalchemy import select

from asn1crypto import keys as asn1_keys

from ledger.covered import covered_problems
from ledger.entries import LedgerRecord, RecordEvent, hash_of_row
from ledger.errors import LedgerError
from ledger.models import ChainHead, Record, SignedHeadRow
from ledger.seal import SignedHead, is_head_signature_valid, key_fingerprint
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
    row: str | None = None  # a covered row concerned (ledger.covered), e.g. "document:7"; seq 0 when no record covers it

    def to_json(self) -> dict:
        return {"kind": self.kind.value, "seq": self.seq, "record_id": self.record_id, "row": self.row,
                "message_vi": self.vi, "message_en": self.en}


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
    window: tuple[_Seen, ...] = ()  # the rows seen just before this one (bounded), to name inserted ones


_WINDOW = 1000  # rows remembered behind each one: enough to name the records of one insertion

_COLUMNS = [getattr(Record, name) for name in ("seq", "prev_hash", "hash", "covers", *LedgerRecord.HASHED)]


def verify_chain(store: Store, *, anchors: Iterable[tuple[int, str]] = (), batch: int = 5000,
                 head_keys: Iterable[asn1_keys.PublicKeyInfo] | None = None) -> ChainReport:
    """Re-hash every record in sequence order and follow the links; say what was changed, deleted, inserted
    or reordered, and where. Streams the records: memory does not grow with the ledger.

    `anchors` are (seq, hash) pairs published earlier (`chain_head`): someone able to rewrite the whole
    table and its head can make a consistent new chain, but not one that matches hashes kept elsewhere.

    `head_keys` (default: the public key of the store's `head_seal`, when it has one) check the signed heads
    (ledger.seal): each must verify and name a record still there with that hash, the head may not be behind
    the latest one, and records after the latest one were not appended by the service."""
    keys = {key_fingerprint(k): k for k in (head_keys if head_keys is not None else
                                            ([store.head_seal.public_key] if store.head_seal is not None else []))}
    heads = _HeadChecker(keys) if keys else None
    genesis = _Seen(0, None, GENESIS_HASH)
    anomalies: list[_Anomaly] = []
    count = 0
    # One snapshot for the head and the records: appends committed meanwhile are not half seen.
    with translated_errors(), store.snapshot() as connection:
        head_seq, head_hash = connection.execute(
            select(ChainHead.last_seq, ChainHead.last_hash).where(ChainHead.id == 1)
        ).one()
        if heads is not None:
            heads.head_seq = head_seq
        result = connection.execution_options(stream_results=True, yield_per=batch).execute(
            select(*_COLUMNS).order_by(Record.seq)
        )
        prev = genesis
        pending: _Anomaly | None = None
        anchored = dict(anchors)
        covers: dict[str, tuple[int, str | None, str]] = {}
        anchor_seen: dict[int, _Seen] = {}
        recent: collections.deque[_Seen] = collections.deque(maxlen=_WINDOW)
        for row in result:
            count += 1
            if pending is not None:
                pending.next_prev_hash = row.prev_hash
                pending = None
            content_ok = hash_of_row(row) == row.hash
            seen = _Seen(row.seq, row.record_id, row.hash)
            if row.covers is not None and row.event == RecordEvent.COVERED.value:
                # The latest one wins; when the chain flags this record, its row is not judged by it.
                covers[row.covers] = (row.seq, row.record_id, row.signed_digest)
            if heads is not None:
                heads.see(connection, seen, batch=batch)
            if row.seq in anchored:
                anchor_seen[row.seq] = seen
            if not content_ok or row.prev_hash != prev.hash or row.seq != prev.seq + 1:
                pending = _Anomaly(seen, prev, row.prev_hash, content_ok, window=tuple(recent))
                anomalies.append(pending)
            recent.append(seen)
            prev = seen
        last = prev
        wanted = {a.prev_hash for a in anomalies} | {head_hash}
        located = _locate(connection, wanted)
        linked = _linked(connection, {a.row.hash for a in anomalies})
        if heads is not None:
            heads.finish(connection, last=last)
        row_problems = list(covered_problems(connection, covers, batch=batch))
    problems = _classify(anomalies, located, linked, last=last, head_seq=head_seq, head_hash=head_hash)
    if heads is not None:
        problems = heads.problems_with(problems, last=last, head_seq=head_seq)
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
    # A covered row is judged by its covering record only when the chain vouches for that record.
    flagged = {p.seq for p in problems}
    problems.extend(p for p in row_problems if p.seq == 0 or p.seq not in flagged)
    problems.sort(key=lambda p: (p.seq, p.row or ""))
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


class _HeadChecker:
    """Walks the signed heads beside the records (both in seq order, in windows of `batch`): memory stays
    bounded however long the ledger is."""

    def __init__(self, keys: dict[str, asn1_keys.PublicKeyInfo]):
        self.keys = keys
        self.window: dict[int, SignedHead] = {}
        self.loaded_upto = 0
        self.latest: SignedHead | None = None  # the latest signed head whose signature verifies
        self.head_seq = 0  # the unsigned head row's seq: records after it are the ones links alone misjudge
        self.covered: set[int] = set()  # seqs after head_seq whose record matches its valid signed head
        self.found: list[ChainProblem] = []

    def _load(self, connection, upto: int, *, batch: int) -> None:
        while self.loaded_upto < upto:
            high = max(upto, self.loaded_upto + batch)
            for row in connection.execute(select(SignedHeadRow).where(
                    SignedHeadRow.seq > self.loaded_upto, SignedHeadRow.seq <= high)):
                self.window[row.seq] = SignedHead(row.seq, row.hash, row.signed_at, row.key_sha256, row.scheme,
                                                  bytes(row.signature))
            self.loaded_upto = high

    def _valid(self, head: SignedHead) -> bool:
        if not is_head_signature_valid(head, self.keys):
            self.found.append(ChainProblem(
                ProblemKind.CHANGED, head.seq, None,
                f"đầu chuỗi đã ký tại bản ghi {head.seq} không khớp chữ ký của khóa dấu: đã bị giả mạo",
                f"the signed head at record {head.seq} does not verify with the seal key: it was forged"))
            return False
        if self.latest is None or head.seq > self.latest.seq:
            self.latest = head
        return True

    def _missing(self, head: SignedHead, *, last: _Seen) -> None:
        if self._valid(head):
            if head.seq > last.seq:
                vi = f"bản ghi {head.seq} đã được ký làm đầu chuỗi nhưng không còn: sổ bị cắt sau bản ghi {last.seq}"
                en = f"record {head.seq} was signed as the chain head but is gone: the chain was truncated after record {last.seq}"
            else:
                vi = f"bản ghi {head.seq} đã được ký làm đầu chuỗi nhưng không còn trong sổ"
                en = f"record {head.seq} was signed as the chain head but is no longer in the ledger"
            self.found.append(ChainProblem(ProblemKind.MISSING, head.seq, None, vi, en))

    def see(self, connection, seen: _Seen, *, batch: int) -> None:
        self._load(connection, seen.seq, batch=batch)
        for seq in sorted(k for k in self.window if k < seen.seq):
            self._missing(self.window.pop(seq), last=seen)
        head = self.window.pop(seen.seq, None)
        if head is None or not self._valid(head):
            return
        if head.hash == seen.hash:
            if seen.seq > self.head_seq:
                self.covered.add(seen.seq)
        else:
            self.found.append(ChainProblem(
                ProblemKind.CHANGED, seen.seq, seen.record_id,
                f"bản ghi {seen.seq} ({seen.record_id}) khác đầu chuỗi đã ký: chuỗi đã bị viết lại",
                f"record {seen.seq} ({seen.record_id}) differs from its signed head: the chain was rewritten"))

    def finish(self, connection, *, last: _Seen) -> None:
        for row in connection.execute(select(SignedHeadRow).where(SignedHeadRow.seq > self.loaded_upto)):
            self.window[row.seq] = SignedHead(row.seq, row.hash, row.signed_at, row.key_sha256, row.scheme,
                                              bytes(row.signature))
        for seq in sorted(self.window):
            self._missing(self.window.pop(seq), last=last)

    def problems_with(self, problems: list[ChainProblem], *, last: _Seen, head_seq: int) -> list[ChainProblem]:
        latest = self.latest.seq if self.latest is not None else 0
        # A record whose hash the seal signed as a head was appended by the service: never "inserted".
        kept = {p.seq: p for p in problems if not (p.kind is ProblemKind.INSERTED and p.seq in self.covered)}
        for problem in self.found:
            kept[problem.seq] = problem  # what the signatures prove wins over what the links suggest
        if head_seq < latest:
            kept.setdefault(head_seq, ChainProblem(
                ProblemKind.CHANGED, head_seq, None,
                f"đầu chuỗi bị lùi về bản ghi {head_seq}; bản ghi {latest} đã được ký làm đầu chuỗi",
                f"the chain head was moved back to record {head_seq}; record {latest} was signed as the head"))
        # Records between the last one left and the latest signed head were in the chain the seal signed.
        for seq in range(last.seq + 1, latest):
            kept.setdefault(seq, ChainProblem(ProblemKind.MISSING, seq, None, f"bản ghi {seq} (cuối sổ) đã bị xóa",
                                              f"record {seq} (at the end) was deleted"))
        for seq in range(latest + 1, last.seq + 1):
            if seq not in kept:
                kept[seq] = ChainProblem(
                    ProblemKind.INSERTED, seq, last.record_id if seq == last.seq else None,
                    f"bản ghi {seq} không có đầu chuỗi đã ký: không do dịch vụ ghi",
                    f"record {seq} is not covered by a signed head: the service did not append it")
        return [kept[seq] for seq in sorted(kept)]


def _linked(connection, hashes: set[str]) -> set[str]:
    """Which of `hashes` some record claims to follow."""
    found: set[str] = set()
    wanted = sorted(hashes)
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        found.update(connection.scalars(select(Record.prev_hash).where(Record.prev_hash.in_(chunk))))
    return found


def _classify(anomalies: list[_Anomaly], located: dict[str, _Seen], linked: set[str], *, last: _Seen, head_seq: int, head_hash: str) -> list[ChainProblem]:
    problems: dict[int, ChainProblem] = {}

    def report(kind: ProblemKind, seq: int, record_id: str | None, vi: str, en: str) -> None:
        problems.setdefault(seq, ChainProblem(kind, seq, record_id, vi, en))

    for a in anomalies:
        r, q = a.row, a.prev
        # Nothing links to r, and its neighbours link to each other around it: r was slipped in, whatever it
        # claims to follow (issue 9, item 10: an insertion is reported as an insertion, not a move).
        slipped_in = r.hash not in linked and r.hash != head_hash
        if a.content_ok and slipped_in and r.seq > q.seq:
            report(ProblemKind.INSERTED, r.seq, r.record_id,
                   f"bản ghi {r.seq} ({r.record_id}) được chèn vào: không bản ghi nào của chuỗi nối tới nó",
                   f"record {r.seq} ({r.record_id}) was inserted: no record of the chain links to it")
            continue
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
                # Only the records that are there between the two linked ones were inserted.
                between = [seen for seen in a.window if p.seq < seen.seq < r.seq]
                reach = min((seen.seq for seen in a.window), default=r.seq)
                beyond = [_Seen(seq, None, "") for seq in range(p.seq + 1, min(reach, r.seq))]
                for seen in beyond + between:
                    report(ProblemKind.INSERTED, seen.seq, seen.record_id,
                           f"bản ghi {seen.seq} được chèn vào: chuỗi nối bản ghi {p.seq} thẳng tới bản ghi {r.seq}",
                           f"record {seen.seq} was inserted: the chain links record {p.seq} directly to record {r.seq}")
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
