"""policies.pdf_limits: the bounds every untrusted PDF goes through (issue 9). Pure: bytes in, counts or a
precise refusal out. Small limits keep the hostile files small."""

from __future__ import annotations

import binascii
import struct
import zlib

import pytest

from policies.pdf_limits import (
    Limit, PdfLimitExceeded, PdfLimits, PdfLimitsError, PdfScan, scan_pdf, walk_tree,
)
from tests.support.hostile_pdfs import flate_bomb, stacked_flate_bomb, write_pdf

MiB = 1024 * 1024
SMALL = PdfLimits(max_decoded_bytes=4 * MiB, max_stream_bytes=1 * MiB, max_objects=50, max_signature_fields=3,
                  max_page_tree_depth=4, max_page_tree_nodes=20)


def stream(dictionary: bytes, data: bytes) -> bytes:
    return b"<< " + dictionary + b" /Length %d >>\nstream\n" % len(data) + data + b"\nendstream"


def one_stream_pdf(dictionary: bytes, data: bytes) -> bytes:
    return write_pdf([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [] /Count 0 >>",
                      stream(dictionary, data)])


def refusal(data: bytes, limits: PdfLimits = SMALL, **kwargs) -> tuple[Limit, object]:
    with pytest.raises(PdfLimitExceeded) as caught:
        scan_pdf(data, limits, **kwargs)
    return caught.value.limit, caught.value.allowed


def test_an_ordinary_file_is_counted():
    content = b"BT /F1 12 Tf (Quyet dinh) Tj ET" * 100
    data = one_stream_pdf(b"/Filter /FlateDecode", zlib.compress(content))
    assert scan_pdf(data, SMALL) == PdfScan(objects=3, streams=1, decoded_bytes=len(content), signature_fields=0)


def test_a_flate_bomb_stops_at_the_stream_limit():
    assert refusal(flate_bomb(inflated=8 * MiB)) == (Limit.STREAM_BYTES, MiB)


def test_flate_on_flate_stops_at_the_stream_limit():
    assert refusal(stacked_flate_bomb(inflated=8 * MiB)) == (Limit.STREAM_BYTES, MiB)


def test_many_streams_under_the_stream_limit_stop_at_the_document_limit():
    part = stream(b"/Filter /FlateDecode", zlib.compress(bytes(MiB - 10)))
    data = write_pdf([b"<< /Type /Catalog >>"] + [part] * 5)
    assert refusal(data) == (Limit.DECODED_BYTES, 4 * MiB)


def test_endstream_hidden_inside_the_compressed_data_does_not_end_the_stream():
    # zlib header, a stored (uncompressed) block holding the letters "endstream", then a Flate bomb.
    stored = b"xx\nendstream\nendobj\n"
    bomb = zlib.compressobj(9, zlib.DEFLATED, -15)
    body = bomb.compress(bytes(8 * MiB)) + bomb.flush()
    adler = zlib.adler32(bytes(8 * MiB), zlib.adler32(stored))
    data = (b"\x78\x01" + b"\x00" + struct.pack("<HH", len(stored), len(stored) ^ 0xFFFF) + stored + body
            + struct.pack(">I", adler))
    assert zlib.decompress(data)[:len(stored)] == stored  # a valid zlib stream
    assert refusal(one_stream_pdf(b"/Filter /FlateDecode", data)) == (Limit.STREAM_BYTES, MiB)


def test_an_indirect_filter_is_assumed_to_be_flate():
    bomb = zlib.compress(bytes(8 * MiB), 9)
    assert refusal(one_stream_pdf(b"/Filter 9 0 R", bomb)) == (Limit.STREAM_BYTES, MiB)


def test_hex_around_a_flate_bomb_is_decoded_first():
    hexed = binascii.hexlify(zlib.compress(bytes(8 * MiB), 9)) + b">"
    assert refusal(one_stream_pdf(b"/Filter [/AHx /Fl]", hexed)) == (Limit.STREAM_BYTES, MiB)


def test_a_run_length_bomb_is_bounded():
    runs = bytes([129, 0]) * (MiB // 64)  # each pair repeats one byte 128 times: 2 MiB in all
    assert refusal(one_stream_pdf(b"/Filter /RunLengthDecode", runs + b"\x80")) == (Limit.STREAM_BYTES, MiB)


def test_images_are_not_inflated():
    jpeg = b"\xff\xd8\xff\xe0" + bytes(3 * MiB)
    data = one_stream_pdf(b"/Filter /DCTDecode /Subtype /Image", jpeg)
    assert scan_pdf(data, SMALL).decoded_bytes == 0


def test_objects_are_counted_in_object_streams_too():
    objects = [b"<< /Type /Catalog >>", stream(b"/Type /ObjStm /N 60 /First 0 /Filter /FlateDecode",
                                               zlib.compress(b"1 0 " * 60))]
    assert refusal(write_pdf(objects)) == (Limit.OBJECTS, 50)
    assert refusal(write_pdf([b"<< >>"] * 51)) == (Limit.OBJECTS, 50)


def test_signature_fields_are_counted_in_the_file_and_in_object_streams():
    field = b"<< /FT /Sig /T (S) >>"
    assert refusal(write_pdf([b"<< /Type /Catalog >>"] + [field] * 4)) == (Limit.SIGNATURE_FIELDS, 3)
    packed = stream(b"/Type /ObjStm /N 4 /First 0 /Filter /FlateDecode", zlib.compress(field * 4))
    assert refusal(write_pdf([b"<< /Type /Catalog >>", packed])) == (Limit.SIGNATURE_FIELDS, 3)
    assert scan_pdf(write_pdf([b"<< /Type /Catalog >>"] + [field] * 3), SMALL).signature_fields == 3


def test_the_deadline_bounds_the_time():
    ticks = iter(range(0, 10_000, 40))  # a clock that advances 40 s per reading
    limits = PdfLimits(max_seconds=60)
    deadline = limits.deadline(clock=lambda: next(ticks))
    data = write_pdf([b"<< >>"] + [stream(b"/Filter /FlateDecode", zlib.compress(b"x"))] * 200)
    assert refusal(data, limits, deadline=deadline) == (Limit.SECONDS, 60)


def test_the_refusal_speaks_vietnamese_and_english():
    exc = PdfLimitExceeded(Limit.PAGE_TREE_DEPTH, allowed=64)
    assert (exc.english, exc.vietnamese) == ("refused: the page tree of the PDF is nested more than 64 levels deep",
                                             "từ chối: cây trang của tệp PDF lồng sâu hơn 64 cấp")
    assert str(exc) == f"{exc.vietnamese} / {exc.english}"


def tree(children_of: dict[str, list[str]]):
    return dict(children=lambda node: children_of.get(node, []), identity=lambda node: node)


def test_walk_tree_counts_nodes():
    assert walk_tree("root", **tree({"root": ["a", "b"], "a": ["c"]}), max_depth=3, max_nodes=4) == 4


def test_walk_tree_refuses_depth_size_and_loops():
    chain = {str(i): [str(i + 1)] for i in range(10)}
    with pytest.raises(PdfLimitExceeded) as deep:
        walk_tree("0", **tree(chain), max_depth=4, max_nodes=100)
    assert (deep.value.limit, deep.value.allowed) == (Limit.PAGE_TREE_DEPTH, 4)
    with pytest.raises(PdfLimitExceeded) as wide:
        walk_tree("r", **tree({"r": [str(i) for i in range(30)]}), max_depth=4, max_nodes=20)
    assert (wide.value.limit, wide.value.allowed) == (Limit.PAGE_TREE_NODES, 20)
    with pytest.raises(PdfLimitExceeded) as loop:
        walk_tree("a", **tree({"a": ["b"], "b": ["a"]}), max_depth=50, max_nodes=50)
    assert loop.value.limit is Limit.PAGE_TREE_LOOP
    with pytest.raises(PdfLimitExceeded) as shared:  # a node reached twice is not a tree either
        walk_tree("r", **tree({"r": ["a", "b"], "a": ["c"], "b": ["c"]}), max_depth=50, max_nodes=50)
    assert shared.value.limit is Limit.PAGE_TREE_LOOP


def test_a_7000_deep_tree_is_walked_without_recursion():
    chain = {i: [i + 1] for i in range(7000)}
    assert walk_tree(0, children=lambda n: chain.get(n, []), identity=lambda n: n, max_depth=8000,
                     max_nodes=8000) == 7001


def test_limits_are_validated_and_configured_by_name():
    assert PdfLimits.from_config({"max_signature_fields": "20", "max_seconds": 5}) == PdfLimits(
        max_signature_fields=20, max_seconds=5.0)
    with pytest.raises(PdfLimitsError) as unknown:
        PdfLimits.from_config({"max_pages": 3})
    assert str(unknown.value).startswith("unknown PDF limit(s) max_pages; known: max_decoded_bytes, ")
    with pytest.raises(PdfLimitsError) as zero:
        PdfLimits(max_objects=0)
    assert str(zero.value) == "PDF limit max_objects must be a positive number, not 0"
    with pytest.raises(PdfLimitsError) as text:
        PdfLimits.from_config({"max_objects": "many"})
    assert str(text.value) == "PDF limit max_objects must be a number, not 'many'"
