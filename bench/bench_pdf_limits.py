"""Benchmark of the PDF limits (issue 9): what `policies.pdf_limits.scan_pdf` adds to opening a document, and
how fast hostile files are refused.

In one run, interleaved file by file: for the sample decision (34 KB) and a 5 MB decision, the median time of
(1) pyHanko opening the document (`IncrementalPdfFileWriter`, the baseline), (2) `scan_pdf` alone, and
(3) the signer's guarded `open_document` (scan + pyHanko under decode limits + page-tree walk). Printed:
medians and the ratios scan/baseline and guarded/baseline (lower is better; pyHanko opens lazily, so the
baseline is small), the share of the scan in a whole `Verifier.verify_pdf` of the same file (scan
included), then the median time to refuse a Flate bomb (1 MB inflating to 1 GiB), a 20,000-field file and a
5,000-deep page tree.
Run: .venv/bin/python bench/bench_pdf_limits.py [--json]
"""

from __future__ import annotations

import io
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

ROUNDS = 15


def median_seconds(action, rounds: int = ROUNDS) -> float:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    from policies.pdf_limits import PdfLimits, scan_pdf
    from signer.errors import DocumentTooComplex
    from signer.pades import open_document
    from tests.support.documents import large_decision, sample_decision
    from tests.support.hostile_pdfs import deep_page_tree, flate_bomb, many_signature_fields

    from verifier import ValidationSettings, Verifier

    limits = PdfLimits()
    verifier = Verifier(ValidationSettings(offline=True))
    results: dict[str, float] = {}
    for name, document in (("sample", sample_decision()), ("large_5mb", large_decision(5.0))):
        baseline, scan, guarded, verify = [], [], [], []
        for _ in range(ROUNDS):  # interleaved so machine load hits them alike
            for bucket, action in ((baseline, lambda: IncrementalPdfFileWriter(io.BytesIO(document), strict=False)),
                                   (scan, lambda: scan_pdf(document, limits)),
                                   (guarded, lambda: open_document(document)),
                                   (verify, lambda: verifier.verify_pdf(document))):
                started = time.perf_counter()
                action()
                bucket.append(time.perf_counter() - started)
        b, s, g, v = (statistics.median(x) for x in (baseline, scan, guarded, verify))
        results.update({f"{name}_pyhanko_open_s": b, f"{name}_scan_s": s, f"{name}_guarded_open_s": g,
                        f"{name}_verify_s": v, f"{name}_scan_over_open": s / b, f"{name}_guarded_over_open": g / b,
                        f"{name}_scan_share_of_verify": s / v})
        print(f"{name}: pyHanko open (lazy) {b * 1000:.2f} ms, scan {s * 1000:.2f} ms, guarded open {g * 1000:.2f} ms, "
              f"verify_pdf (scan included) {v * 1000:.2f} ms; scan/open {s / b:.2f}, guarded/open {g / b:.2f}, "
              f"scan/verify {s / v:.2f}")
    verifier.close()

    for name, hostile in (("flate_bomb_1gib", flate_bomb()), ("fields_20000", many_signature_fields(20_000)),
                          ("page_tree_5000", deep_page_tree(5_000))):
        def refuse(hostile=hostile):
            try:
                open_document(hostile)
            except DocumentTooComplex:
                return
            raise AssertionError("not refused")

        seconds = median_seconds(refuse, rounds=5)
        results[f"refuse_{name}_s"] = seconds
        print(f"refusing {name}: {seconds * 1000:.1f} ms (median of 5)")
    if "--json" in sys.argv:
        print(json.dumps(results))


if __name__ == "__main__":
    main()
