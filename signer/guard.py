"""The signer's side of `policies.pdf_limits`: every document is scanned before pyHanko or pdfminer reads it,
pyHanko reads it under matching decode limits, and its page tree is walked (iteratively, loop-proof) before
any recursive code descends it (issue 9, items 2 and 11). Refusals are `DocumentTooComplex`."""

from __future__ import annotations

import io

from policies.pdf_limits import Deadline, PdfLimitExceeded, PdfLimits, scan_pdf, walk_page_tree
from signer.errors import DocumentTooComplex


def decode_limits(limits: PdfLimits):
    """pyHanko's own decode limits, no wider than ours (a second line for filters the scan does not
    decode, such as LZW)."""
    from pyhanko.pdf_utils.decode_limits import DecodeLimits, DocumentDecodeBudget, StreamDecodeLimits

    return DecodeLimits(per_stream=StreamDecodeLimits(max_output_size=limits.max_stream_bytes),
                        document_budget=DocumentDecodeBudget(base_allowance=limits.max_decoded_bytes, max_ratio=1))


def scan(document: bytes, limits: PdfLimits, deadline: Deadline) -> None:
    try:
        scan_pdf(document, limits, deadline=deadline)
    except PdfLimitExceeded as exc:
        raise DocumentTooComplex(str(exc), limit=exc.limit) from exc


def guarded_writer(document: bytes, limits: PdfLimits, deadline: Deadline):
    """An incremental writer over a scanned document, read under `limits`."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    scan(document, limits, deadline)
    return IncrementalPdfFileWriter(io.BytesIO(document), strict=False, decode_limits=decode_limits(limits))


def check_page_tree(root, limits: PdfLimits, deadline: Deadline) -> int:
    """Walk the page tree from the catalog `root`; the number of its nodes, or `DocumentTooComplex`."""
    try:
        return walk_page_tree(root, limits, deadline=deadline)
    except PdfLimitExceeded as exc:
        raise DocumentTooComplex(str(exc), limit=exc.limit) from exc
