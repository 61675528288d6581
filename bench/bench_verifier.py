"""Benchmark of the verifier: validations/s of kyso's `Verifier` (warm, one reused setup) against stock
pyHanko `validate_pdf_signature` with a fresh `ValidationContext` per file, and against poppler's `pdfsig`.

In one run: the declarative test PKI (tests/support/pki.py, our own ca/) is served on loopback (OCSP, CRL,
TSA); a one-signature document (personal, B-T) and a two-signature document (personal then agency, both
B-T) are signed with stock pyHanko, N distinct files of each (a batch: many documents, few signers). Each
file is validated, the three judges interleaved file by file so machine load hits them alike, by
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


def main() -> None:
    logging.disable(logging.WARNING)  # pyHanko logs every suspicion; the benchmark measures, not reports
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    from tests.support.documents import decision_pdf
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
        ones, twos = [], []
        for index in range(N):
            one = sign_pdf(decision_pdf(body_lines=1 + index % 4, title=f"GIÁM ĐỐC {index}"),
                           kit.signer("official_ec"), timestamper=kit.timestamper())
            ones.append(one)
            twos.append(sign_pdf(one, kit.signer("agency_ec"), field="Signature2", timestamper=kit.timestamper()))
        documents = {"1 signature": ones, "2 signatures": twos}
        db = nss_database(folder, pki)

        def stock(data: bytes) -> None:
            context = ValidationContext(trust_roots=pki.trust_roots, allow_fetching=True,
                                        revocation_mode="hard-fail")
            reader = PdfFileReader(io.BytesIO(data), strict=False)
            for embedded in reader.embedded_signatures:
                status = validate_pdf_signature(embedded, context)
                assert status.bottom_line, status.pretty_print_details()

        print(f"kyso verifier benchmark: {N} distinct files per document kind, medians (s/file)")
        print(f"{'document':<14} {'kyso':>9} {'stock':>9} {'pdfsig':>9} {'kyso/s':>8} {'x stock':>8} {'x pdfsig':>9}")
        with kit.verifier() as verifier:
            for label, files in documents.items():
                paths = []
                for index, data in enumerate(files):
                    paths.append(folder / f"{label.replace(' ', '-')}-{index}.pdf")
                    paths[-1].write_bytes(data)
                warm = verifier.verify_pdf(files[0])  # warm-up: imports, first fetches
                assert warm.indication is Indication.TOTAL_PASSED, warm.to_json()
                stock(files[0])
                ours, theirs, pdfsig = [], [], []
                for data, path in zip(files, paths):
                    start = time.perf_counter()
                    report = verifier.verify_pdf(data)
                    ours.append(time.perf_counter() - start)
                    assert report.indication is Indication.TOTAL_PASSED
                    start = time.perf_counter()
                    stock(data)
                    theirs.append(time.perf_counter() - start)
                    if db is not None:
                        start = time.perf_counter()
                        result = subprocess.run(["pdfsig", "-nssdir", f"sql:{db}", str(path)],
                                                capture_output=True, text=True)
                        pdfsig.append(time.perf_counter() - start)
                        assert result.stdout.count("Signature is Valid") == len(report.signatures), result.stdout
                ours_m, theirs_m = statistics.median(ours), statistics.median(theirs)
                if pdfsig:
                    pdfsig_m = statistics.median(pdfsig)
                    pdfsig_text, ratio_pdfsig = f"{pdfsig_m:9.4f}", f"{pdfsig_m / ours_m:8.2f}x"
                else:
                    pdfsig_text, ratio_pdfsig = f"{'n/a':>9}", f"{'n/a':>9}"
                print(f"{label:<14} {ours_m:9.4f} {theirs_m:9.4f} {pdfsig_text} {1 / ours_m:8.1f} "
                      f"{theirs_m / ours_m:7.2f}x {ratio_pdfsig}")
    pki.authority.store.close()
    shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
