"""Benchmark of the central service: requests/s for validation and for prepare+complete signing through HTTP,
as ratios to calling the libraries directly in the same run.

In one run: the declarative test PKI (tests/support/pki.py, our own ca/) is served on loopback (OCSP, CRL,
TSA); the service (create_app, SQLite, the ledger, the verifier and the signer wired by service.wiring) is
served on loopback by werkzeug's threaded server; a client sends requests one at a time over a kept-alive
connection. Interleaved iteration by iteration so machine load hits both sides alike:
  validation  (1) library: `Verifier.verify_pdf(signed)` on the service's own Verifier
              (2) HTTP: `POST /api/v1/validations` with the same PDF (auth, upload, report JSON, audit)
  signing     (1) library: signer.prepare + the key signs the digest + signer.complete (PAdES B-T, TSA on
                  loopback, same SigningEnvironment)
              (2) HTTP: `POST /api/v1/signing-sessions` + the key signs + `POST .../signature`, which also
                  checks the signing policy, verifies the result and records it in the ledger in one transaction
Printed: median seconds per operation, operations/s and the ratio HTTP/library (1.0 = no overhead).
Run: .venv/bin/python bench/bench_service.py   (about a minute)
"""

from __future__ import annotations

import base64
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

N_VALIDATE = 60
N_SIGN = 30


def main() -> None:
    logging.disable(logging.WARNING)
    import requests

    from policies.keys import DigestAlgorithm, SignatureScheme
    from service.request_log import service_logger
    from signer import InMemoryUsedStates, PadesLevel, SignatureKind, SignatureRequest, StampImage, complete, prepare
    from tests.support.documents import sample_decision, signature_png
    from tests.support.ledger import ROSTER_CSV
    from tests.support.pki import build_test_pki
    from tests.support.servers import free_port, serve_wsgi
    from tests.support.service import build_service_world, pki_components
    from service.pki import create_pki_app

    service_logger().setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        port = free_port()
        pki = build_test_pki(base_url=f"http://127.0.0.1:{port}", database_url=f"sqlite:///{folder / 'ca.db'}")
        with serve_wsgi(create_pki_app(pki.authority), port=port):
            database_url = f"sqlite:///{folder / 'service.db'}"
            components = pki_components(database_url, pki)
            world = build_service_world(database_url, components=components, roster=ROSTER_CSV)
            with serve_wsgi(world.app) as base_url:
                run(base_url, world, components, pki, requests=requests, key_types=(DigestAlgorithm, SignatureScheme),
                    signer_api=(InMemoryUsedStates, PadesLevel, SignatureKind, SignatureRequest, StampImage,
                                complete, prepare),
                    document=sample_decision(), image=signature_png())
            components.dispose()
        pki.authority.store.close()


def run(base_url, world, components, pki, *, requests, key_types, signer_api, document, image) -> None:
    DigestAlgorithm, SignatureScheme = key_types
    InMemoryUsedStates, PadesLevel, SignatureKind, SignatureRequest, StampImage, complete, prepare = signer_api
    entity = pki.official_ec
    headers = {"Authorization": f"Bearer {world.keys['dms']}"}
    http = requests.Session()
    b64 = lambda data: base64.b64encode(data).decode()  # noqa: E731
    body = {"kind": "approve", "certificate": b64(entity.der), "document": b64(document), "agency_code": "H26.10",
            "signature_image": b64(image), "title": "GIÁM ĐỐC", "signer_name": "Nguyễn Văn An"}

    def sign_http() -> bytes:
        session = http.post(f"{base_url}/api/v1/signing-sessions", json=body, headers=headers, timeout=60).json()
        value = entity.key.sign_digest(base64.b64decode(session["digest"]), digest_algorithm=DigestAlgorithm.SHA256,
                                       scheme=SignatureScheme.ECDSA)
        done = http.post(f"{base_url}/api/v1/signing-sessions/{session['id']}/signature", headers=headers,
                         json={"signature": b64(value)}, timeout=60)
        assert done.status_code == 200, done.text[:300]
        return base64.b64decode(done.json()["document"])

    used = InMemoryUsedStates()
    request = SignatureRequest(kind=SignatureKind.APPROVE, level=PadesLevel.B_T,
                               signature_image=StampImage.from_png(image, role="signature"),
                               title="GIÁM ĐỐC", signer_name="Nguyễn Văn An")

    def sign_library() -> bytes:
        prepared = prepare(document, certificate=entity.certificate, chain=entity.chain, request=request,
                           environment=components.signing)
        value = entity.key.sign_digest(prepared.digest, digest_algorithm=prepared.digest_algorithm,
                                       scheme=prepared.scheme)
        return complete(prepared.state, value, environment=components.signing, used_states=used).pdf

    signed = sign_http()  # warm both paths (imports, fonts, OCSP cache) before measuring
    sign_library()

    def validate_http() -> None:
        answer = http.post(f"{base_url}/api/v1/validations", data=signed, timeout=60,
                           headers={**headers, "Content-Type": "application/pdf"})
        assert answer.json()["files"][0]["indication"] == "TOTAL_PASSED"

    def validate_library() -> None:
        assert components.verifier.verify_pdf(signed, path="bench.pdf").passed

    validate_http()
    validate_library()
    results = {}
    for name, (library, through_http, count) in {
        "validation": (validate_library, validate_http, N_VALIDATE),
        "prepare+complete signing": (sign_library, sign_http, N_SIGN),
    }.items():
        library_times, http_times = [], []
        for _ in range(count):
            for function, times in ((library, library_times), (through_http, http_times)):
                start = time.perf_counter()
                function()
                times.append(time.perf_counter() - start)
        results[name] = (statistics.median(library_times), statistics.median(http_times))
    http.close()

    print("kyso service benchmark (one client, sequential requests, SQLite, werkzeug threaded server)")
    print(f"{'operation':<28}{'library s/op':>14}{'HTTP s/op':>12}{'library op/s':>14}{'HTTP op/s':>11}{'HTTP/library':>14}")
    for name, (library, through_http) in results.items():
        print(f"{name:<28}{library:>14.4f}{through_http:>12.4f}{1 / library:>14.1f}{1 / through_http:>11.1f}"
              f"{(1 / through_http) / (1 / library):>14.2f}")
    print("HTTP signing also checks the signing policy, verifies the signed result and records it in the ledger.")


if __name__ == "__main__":
    main()
