"""Benchmark of the verifier: validations/s of kyso's `Verifier` (warm, one reused setup) against stock
pyHanko `validate_pdf_signature` with a fresh `ValidationContext` per file, and against poppler's `pdfsig`.

In one run: the declarative test PKI (tests/support/pki.py, our own ca/) is served on loopback (OCSP, CRL,
TSA); a one-signature document (personal, B-T) and a two-signature document (personal then agency, both
B-T) are signed with stock pyHanko. Each is validated N times by
  (1) kyso: one `Verifier` for the whole run (trust manager, HTTP cache of OCSP/CRL/AIA, event loop reused),
  (2) stock pyHanko: a fresh ValidationContext (explicit trust root, fetching allowed, hard-fail revocation)
      for each file, then `validate_pdf_signature` for each signature,
  (3) `pdfsig` per file (a process per file, as a shell batch would), NSS database trusting the root (C,C,C)
      with the CRLs imported.
Printed: median seconds per file, files/s, and the ratios kyso/stock and kyso/pdfsig (higher is better).
Run: .venv/bin/python bench/bench_verifier.py   (about a minute)
"""

from __future__ import annotations

import io
import logging
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

N = 30


def timed(operation, count: int) -> list[float]:
    samples = []
    for _ in range(count):
        start = time.perf_counter()
        operation()
        samples.append(time.perf_counter() - start)
    return samples


def main() -> None:
    logging.disable(logging.WARNING)  # pyHanko logs every suspicion; the benchmark measures, not reports
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    from tests.support.documents import sample_decision
    from tests.support.pki import build_test_pki
    from tests.support.servers import free_port, serve_wsgi
    from tests.support.verifier import VerifierKit, nss_database, sign_pdf
    from service.pki import create_pki_app
    from verifier import Indication

    folder = Path(tempfile.mkdtemp(prefix="kyso-bench-verifier-"))
    port = free_port()
    pki = build_test_pki(base_url=f"http://127.0.0.1:{port}", database_url=f"sqlite:///{folder / 'ca.db'}")
    with serve_wsgi(create_pki_app(pki.authority), port=port):
        kit = VerifierKit(pki)
        one = sign_pdf(sample_decision(), kit.signer("official_ec"), timestamper=kit.timestamper())
        two = sign_pdf(one, kit.signer("agency_ec"), field="Signature2", timestamper=kit.timestamper())
        documents = {"1 signature": one, "2 signatures": two}
        db = nss_database(folder, pki)

        def stock(data: bytes) -> None:
            context = ValidationContext(trust_roots=pki.trust_roots, allow_fetching=True,
                                        revocation_mode="hard-fail")
            reader = PdfFileReader(io.BytesIO(data), strict=False)
            for embedded in reader.embedded_signatures:
                status = validate_pdf_signature(embedded, context)
                assert status.bottom_line, status.pretty_print_details()

        print(f"kyso verifier benchmark: {N} validations per measurement, medians (s/file)")
        print(f"{'document':<14} {'kyso':>9} {'stock':>9} {'pdfsig':>9} {'kyso/s':>8} {'x stock':>8} {'x pdfsig':>9}")
        with kit.verifier() as verifier:
            for label, data in documents.items():
                path = folder / f"{label.replace(' ', '-')}.pdf"
                path.write_bytes(data)
                report = verifier.verify_pdf(data)  # warm-up: imports, first fetches
                assert report.indication is Indication.TOTAL_PASSED, report.to_json()
                stock(data)
                ours = statistics.median(timed(lambda: verifier.verify_pdf(data), N))
                theirs = statistics.median(timed(lambda: stock(data), N))
                if db is not None:
                    def run_pdfsig():
                        result = subprocess.run(["pdfsig", "-nssdir", f"sql:{db}", str(path)],
                                                capture_output=True, text=True)
                        assert "Signature is Valid" in result.stdout, result.stdout
                    pdfsig = statistics.median(timed(run_pdfsig, N))
                    pdfsig_text, ratio_pdfsig = f"{pdfsig:9.4f}", f"{pdfsig / ours:8.2f}x"
                else:
                    pdfsig_text, ratio_pdfsig = f"{'n/a':>9}", f"{'n/a':>9}"
                print(f"{label:<14} {ours:9.4f} {theirs:9.4f} {pdfsig_text} {1 / ours:8.1f} "
                      f"{theirs / ours:7.2f}x {ratio_pdfsig}")
    pki.authority.store.close()
    shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
