"""Bounds on the work one untrusted PDF may cause (issue 9, items 2, 3 and 11), shared by signer and verifier.

A small file can inflate to gigabytes (a Flate bomb, or Flate stacked on Flate), hold tens of thousands of
objects or signature fields, nest its page tree thousands of levels deep or loop it back on itself. Every
PDF we parse (prepare, text search, verification, evidence) first goes through `scan_pdf`, a pure pass over
the raw bytes that decodes every stream with bounded output and counts objects and signature fields, and
its page tree is walked with `walk_tree` (iterative: depth-bounded, loop-proof) before any recursive parser
touches it. A `Deadline` bounds the time of the whole job. Exceeding a bound raises `PdfLimitExceeded`,
which names the bound, in Vietnamese and English; callers turn it into a refusal (HTTP 422) or a report.

The limits are data (`PdfLimits`, with `from_config` that rejects unknown keys) so the service and the CLI
configure them in one place; the defaults fit every real administrative document we have seen by a wide
margin (Decree 30 documents are a few pages; a large scanned appendix is a few MB of JPEG, which is never
inflated).
"""

from __future__ import annotations

import base64
import binascii
import enum
import re
import time
import zlib
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass, fields
from typing import Any, TypeVar

MiB = 1024 * 1024
T = TypeVar("T")


class Limit(enum.Enum):
    """Which bound a document exceeded."""

    DECODED_BYTES = "decoded_bytes"
    STREAM_BYTES = "stream_bytes"
    OBJECTS = "objects"
    SIGNATURE_FIELDS = "signature_fields"
    PAGE_TREE_DEPTH = "page_tree_depth"
    PAGE_TREE_NODES = "page_tree_nodes"
    PAGE_TREE_LOOP = "page_tree_loop"
    SECONDS = "seconds"


_TEXT = {
    Limit.DECODED_BYTES: ("the streams of the PDF decode to more than {allowed} bytes",
                          "các luồng dữ liệu của tệp PDF giải nén ra hơn {allowed} byte"),
    Limit.STREAM_BYTES: ("one stream of the PDF decodes to more than {allowed} bytes",
                         "một luồng dữ liệu của tệp PDF giải nén ra hơn {allowed} byte"),
    Limit.OBJECTS: ("the PDF has more than {allowed} objects",
                    "tệp PDF có hơn {allowed} đối tượng"),
    Limit.SIGNATURE_FIELDS: ("the PDF has more than {allowed} signature fields",
                             "tệp PDF có hơn {allowed} trường chữ ký"),
    Limit.PAGE_TREE_DEPTH: ("the page tree of the PDF is nested more than {allowed} levels deep",
                            "cây trang của tệp PDF lồng sâu hơn {allowed} cấp"),
    Limit.PAGE_TREE_NODES: ("the page tree of the PDF has more than {allowed} nodes",
                            "cây trang của tệp PDF có hơn {allowed} nút"),
    Limit.PAGE_TREE_LOOP: ("the page tree of the PDF refers back to itself (a reference loop)",
                           "cây trang của tệp PDF tham chiếu vòng lại chính nó"),
    Limit.SECONDS: ("reading the PDF took longer than {allowed} seconds",
                    "đọc tệp PDF mất quá {allowed} giây"),
}


class PdfLimitExceeded(Exception):
    """A document exceeds one of the `PdfLimits`. `str()` is "vietnamese / english"."""

    def __init__(self, limit: Limit, *, allowed: int | float | None = None):
        en, vi = _TEXT[limit]
        self.limit = limit
        self.allowed = allowed
        self.english = "refused: " + en.format(allowed=allowed)
        self.vietnamese = "từ chối: " + vi.format(allowed=allowed)
        super().__init__(f"{self.vietnamese} / {self.english}")


class PdfLimitsError(ValueError):
    """The limits themselves are misconfigured (misuse, not a hostile document)."""


@dataclass(frozen=True)
class PdfLimits:
    """How much one PDF may make us do. Every value must be positive."""

    max_decoded_bytes: int = 256 * MiB  # all streams of the file together, after decoding
    max_stream_bytes: int = 64 * MiB  # one stream after decoding (a 300 dpi A4 colour scan: 26 MiB)
    max_objects: int = 200_000  # indirect objects, those in object streams included
    max_signature_fields: int = 100  # filled or empty (a 20,000-field file stops here)
    max_page_tree_depth: int = 64  # /Pages nodes nested (real files: 1 to 4)
    max_page_tree_nodes: int = 100_000  # pages and /Pages nodes
    max_seconds: float = 60.0  # one job (prepare, verification) on one file

    def __post_init__(self) -> None:
        for item in fields(self):
            value = getattr(self, item.name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
                raise PdfLimitsError(f"PDF limit {item.name} must be a positive number, not {value!r}")

    @classmethod
    def from_config(cls, mapping: Mapping[str, Any]) -> "PdfLimits":
        """Limits from a configuration table (`[limits]`-like); an unknown key is an error naming it."""
        known = {item.name: item.type for item in fields(cls)}
        unknown = sorted(set(mapping) - set(known))
        if unknown:
            raise PdfLimitsError(f"unknown PDF limit(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        values: dict[str, Any] = {}
        for name, value in mapping.items():
            try:
                values[name] = float(value) if name == "max_seconds" else int(value)
            except (TypeError, ValueError) as exc:
                raise PdfLimitsError(f"PDF limit {name} must be a number, not {value!r}") from exc
        return cls(**values)

    def deadline(self, *, clock: Callable[[], float] = time.monotonic) -> "Deadline":
        return Deadline(seconds=self.max_seconds, clock=clock, started=clock())


@dataclass(frozen=True)
class Deadline:
    """The end of the time one job may spend on a file; `check()` raises once it has passed."""

    seconds: float
    clock: Callable[[], float]
    started: float

    def check(self) -> None:
        if self.clock() - self.started > self.seconds:
            raise PdfLimitExceeded(Limit.SECONDS, allowed=self.seconds)


@dataclass(frozen=True)
class PdfScan:
    """What `scan_pdf` counted (all bounded by the limits it was given)."""

    objects: int
    streams: int
    decoded_bytes: int
    signature_fields: int


# A stream keyword (not the end of `endstream`), then the end of line ISO 32000-1 7.3.8.1 requires.
# (Both patterns start with their literal, so the regex engine skips ahead fast over binary data; the
# `endstream` matches are dropped in the loop.)
_STREAM = re.compile(rb"stream(?:\r\n|\n|\r)")
_OBJECT = re.compile(rb"obj(?![A-Za-z])")  # counted when a digit and a blank precede it: "12 0 obj"
_FILTER = re.compile(rb"/Filter\s*(\[[^\]]{0,512}\]|/[A-Za-z0-9]+)")
_NAME = re.compile(rb"/([A-Za-z0-9]+)")
_OBJECT_STREAM = re.compile(rb"/Type\s*/ObjStm\b")
_OBJECT_STREAM_COUNT = re.compile(rb"/N\s+([0-9]{1,9})\b")
_SIGNATURE_FIELD = re.compile(rb"/FT\s*/Sig\b")
_FLATE = {b"FlateDecode", b"Fl"}
_HEX = {b"ASCIIHexDecode", b"AHx"}
_A85 = {b"ASCII85Decode", b"A85"}
_RUN_LENGTH = {b"RunLengthDecode", b"RL"}
_DICTIONARY_WINDOW = 4096  # how far before `stream` its dictionary is looked for


_BLANKS = b" \t\r\n\f\x00"


def _is_object_header(data: bytes, at: int) -> bool:
    """`obj` at `at` follows "<number> <generation> " (ISO 32000-1 7.3.10), e.g. "12 0 obj"."""
    return at >= 2 and data[at - 1] in _BLANKS and 48 <= data[at - 2] <= 57


class _Budget:
    def __init__(self, limits: PdfLimits, deadline: Deadline):
        self.limits = limits
        self.deadline = deadline
        self.decoded = 0

    def charge(self, size: int) -> None:
        self.decoded += size
        if self.decoded > self.limits.max_decoded_bytes:
            raise PdfLimitExceeded(Limit.DECODED_BYTES, allowed=self.limits.max_decoded_bytes)

    def stream_cap(self) -> int:
        return min(self.limits.max_stream_bytes, self.limits.max_decoded_bytes - self.decoded)


def _inflate(segments: Iterable[bytes], budget: _Budget, *, keep: bool = True) -> tuple[int, bytes] | None:
    """Inflate a zlib stream fed in segments, never producing more than the budget allows; None when it is
    not zlib. Stops at the end of the zlib data, so the caller may offer more input than the stream holds.
    Returns (decoded size, decoded bytes); without `keep` the bytes are dropped as they come (memory stays
    at one chunk) and come back empty."""
    cap = budget.stream_cap()
    inflater = zlib.decompressobj()
    out = bytearray()
    size = 0
    try:
        for segment in segments:
            pending = segment
            while pending:
                piece = inflater.decompress(pending, MiB)
                size += len(piece)
                if keep:
                    out += piece
                if size > cap:
                    stream = cap == budget.limits.max_stream_bytes
                    raise PdfLimitExceeded(Limit.STREAM_BYTES if stream else Limit.DECODED_BYTES,
                                           allowed=budget.limits.max_stream_bytes if stream
                                           else budget.limits.max_decoded_bytes)
                if inflater.eof:
                    return size, bytes(out)
                pending = inflater.unconsumed_tail
                budget.deadline.check()
    except zlib.error:
        if not size:
            return None  # not Flate at all (an image, a broken stream): the parser judges it
    return size, bytes(out)


def _segments(data: bytes, start: int) -> Iterable[bytes]:
    """The stream data from `start` up to `endstream`, and past it when the stream goes on (compressed
    data may hold those letters by chance or on purpose): one segment per `endstream`, then the rest."""
    position = start
    view = memoryview(data)
    while position < len(data):
        end = data.find(b"endstream", position)
        end = len(data) if end < 0 else end + len(b"endstream")
        yield view[position:end]
        position = end


def _run_length(data: bytes, cap: int) -> bytes:
    out = bytearray()
    index = 0
    while index < len(data):
        length = data[index]
        if len(out) > cap:
            raise PdfLimitExceeded(Limit.STREAM_BYTES, allowed=cap)
        if length == 128:
            break
        if length < 128:
            out += data[index + 1:index + 2 + length]
            index += length + 2
        else:
            out += data[index + 1:index + 2] * (257 - length)
            index += 2
    if len(out) > cap:
        raise PdfLimitExceeded(Limit.STREAM_BYTES, allowed=cap)
    return bytes(out)


def _filters(dictionary: bytes) -> list[bytes] | None:
    """The filter names of a stream dictionary ([] without /Filter), or None when they are not written out
    directly (an indirect reference: the caller assumes the worst)."""
    at = dictionary.rfind(b"/Filter")
    if at < 0:
        return []
    found = _FILTER.match(dictionary, at)
    if found is None:
        return None
    return [match.group(1) for match in _NAME.finditer(found.group(1))]


def _decode(data: bytes, start: int, names: list[bytes] | None, budget: _Budget, *, keep: bool) -> bytes:
    """Decode through the filters we can bound; stop at the first other one (its output is not expanded).
    Only a stream whose bytes matter (`keep`: an object stream) or that feeds another filter is kept."""
    if names is None:  # an indirect /Filter: assume the worst, that it is Flate
        names = [b"FlateDecode"]
    if not names:
        return b""
    if names[0] in _FLATE:
        first = _inflate(_segments(data, start), budget, keep=keep or len(names) > 1)
        if first is None:
            return b""
        budget.charge(first[0])
        names, data = names[1:], first[1]
    else:
        end = data.find(b"endstream", start)
        data = data[start:end if end >= 0 else len(data)]
    for name in names:
        if name in _FLATE:
            inflated = _inflate((data,), budget)
            if inflated is None:
                return b""
            data = inflated[1]
        elif name in _HEX:
            text = bytes(data).split(b">", 1)[0]
            text = re.sub(rb"\s", b"", text)
            try:
                data = binascii.unhexlify(text + (b"0" if len(text) % 2 else b""))
            except (binascii.Error, ValueError):
                return b""
        elif name in _A85:
            text = bytes(data).split(b"~>", 1)[0].strip().removeprefix(b"<~")
            if text.count(b"z") * 4 > budget.stream_cap():
                raise PdfLimitExceeded(Limit.STREAM_BYTES, allowed=budget.limits.max_stream_bytes)
            try:
                data = base64.a85decode(text, adobe=False, ignorechars=b" \t\n\r\x0b\f")
            except ValueError:
                return b""
        elif name in _RUN_LENGTH:
            data = _run_length(data, budget.stream_cap())
        else:
            break  # DCT, JPX, CCITT, JBIG2 (images, decoded only by viewers) or LZW (see SECURITY.md)
        budget.charge(len(data))
        budget.deadline.check()
    return data


def scan_pdf(data: bytes, limits: PdfLimits, *, deadline: Deadline | None = None) -> PdfScan:
    """Count objects and signature fields and decode every stream with bounded output, or raise
    `PdfLimitExceeded`. Pure: reads `data` only. Works on the raw bytes, so it also bounds what a later
    parser that has no limits of its own (pdfminer's text search) would inflate."""
    deadline = deadline or limits.deadline()
    budget = _Budget(limits, deadline)
    objects = sum(1 for match in _OBJECT.finditer(data) if _is_object_header(data, match.start()))
    if objects > limits.max_objects:
        raise PdfLimitExceeded(Limit.OBJECTS, allowed=limits.max_objects)
    signature_fields = sum(1 for _ in _SIGNATURE_FIELD.finditer(data))
    streams = 0
    previous_end = 0
    for match in _STREAM.finditer(data):
        if data[max(0, match.start() - 3):match.start()] == b"end":
            continue
        streams += 1
        start = match.end()
        dictionary = data[max(previous_end, match.start() - _DICTIONARY_WINDOW):match.start()]
        previous_end = start
        object_stream = _OBJECT_STREAM.search(dictionary) is not None
        decoded = _decode(data, start, _filters(dictionary), budget, keep=object_stream)
        if streams % 64 == 0:
            deadline.check()
        if object_stream:
            count = _OBJECT_STREAM_COUNT.search(dictionary)
            objects += int(count.group(1)) if count else 0
            signature_fields += sum(1 for _ in _SIGNATURE_FIELD.finditer(decoded))
            if objects > limits.max_objects:
                raise PdfLimitExceeded(Limit.OBJECTS, allowed=limits.max_objects)
        if signature_fields > limits.max_signature_fields:
            raise PdfLimitExceeded(Limit.SIGNATURE_FIELDS, allowed=limits.max_signature_fields)
    if signature_fields > limits.max_signature_fields:
        raise PdfLimitExceeded(Limit.SIGNATURE_FIELDS, allowed=limits.max_signature_fields)
    return PdfScan(objects=objects, streams=streams, decoded_bytes=budget.decoded, signature_fields=signature_fields)


def walk_tree(root: T, *, children: Callable[[T], Iterable[T]], identity: Callable[[T], Hashable],
              max_depth: int, max_nodes: int, deadline: Deadline | None = None) -> int:
    """Visit a tree (the page tree: ISO 32000-1 7.7.3) without recursion; return the number of nodes.
    Raises `PdfLimitExceeded` when it is deeper than `max_depth`, larger than `max_nodes`, or loops (a node
    met again on its own path or elsewhere: a page tree is a tree, every node has one /Parent)."""
    seen: set[Hashable] = {identity(root)}
    stack: list[tuple[T, int]] = [(root, 1)]
    count = 0
    while stack:
        node, depth = stack.pop()
        count += 1
        if depth > max_depth:
            raise PdfLimitExceeded(Limit.PAGE_TREE_DEPTH, allowed=max_depth)
        if count > max_nodes:
            raise PdfLimitExceeded(Limit.PAGE_TREE_NODES, allowed=max_nodes)
        if deadline is not None and count % 256 == 0:
            deadline.check()
        for child in children(node):
            key = identity(child)
            if key in seen:
                raise PdfLimitExceeded(Limit.PAGE_TREE_LOOP)
            seen.add(key)
            stack.append((child, depth + 1))
    return count


def walk_page_tree(catalog: Any, limits: PdfLimits, *, deadline: Deadline | None = None) -> int:
    """`walk_tree` over the page tree of a parsed document's catalog. Duck-typed over pyHanko's object model
    (dictionaries and arrays with `raw_get`, references with `idnum`, `generation` and `get_object`) so this
    module stays free of parsers; returns the number of nodes or raises `PdfLimitExceeded`."""

    def resolve(raw: Any) -> tuple[Any, Any]:
        return raw, (raw.get_object() if hasattr(raw, "get_object") else raw)

    def identity(node: tuple[Any, Any]) -> Hashable:
        raw = node[0]
        return (raw.idnum, raw.generation) if hasattr(raw, "idnum") else id(raw)

    def children(node: tuple[Any, Any]) -> list[tuple[Any, Any]]:
        value = node[1]
        if not isinstance(value, Mapping) or value.get("/Type") != "/Pages":
            return []
        kids = value.get("/Kids")
        if not isinstance(kids, list) or not hasattr(kids, "raw_get"):
            return []
        return [resolve(kids.raw_get(index)) for index in range(len(kids))]

    return walk_tree(resolve(catalog.raw_get("/Pages")), children=children, identity=identity,
                     max_depth=limits.max_page_tree_depth, max_nodes=limits.max_page_tree_nodes,
                     deadline=deadline)
