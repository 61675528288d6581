"""The verifier's side of `policies.pdf_limits`: pyHanko's own decode limits, no wider than ours (a second
line behind `scan_pdf` for filters the scan does not decode, such as LZW)."""

from __future__ import annotations

from policies.pdf_limits import PdfLimits


def decode_limits(limits: PdfLimits):
    from pyhanko.pdf_utils.decode_limits import DecodeLimits, DocumentDecodeBudget, StreamDecodeLimits

    return DecodeLimits(per_stream=StreamDecodeLimits(max_output_size=limits.max_stream_bytes),
                        document_budget=DocumentDecodeBudget(base_allowance=limits.max_decoded_bytes, max_ratio=1))
