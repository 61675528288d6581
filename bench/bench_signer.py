"""Signer throughput: signatures per second, as a ratio to stock pyHanko in the same run.

Baseline: pyHanko's `PdfSigner` with default settings (`PdfSignatureMetadata(field_name=...)`, a
`SimpleSigner` on the same in-memory key, invisible signature, size found by a dry run). Ours: `sign_pdf`
with the approve appearance (signature image at an explicit box; the text-search variant is shown apart),
the certificate checked against the trust root and the loopback OCSP responder before signing (the default
soft-fail mode; a passed check is reused for 300 s, so after the warm-up neither side does network I/O for
B-B; B-T adds the same loopback TSA to both). Documents: the 1-page sample decision and a ~5 MB one.
Also the prepare / complete split of the hash-only flow.

    .venv/bin/python bench/bench_signer.py [--quick]
"""

from __future__ import annotations

import io
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from asn1crypto import keys as asn1_keys  # noqa: E402
from cryptography.hazmat.primitives import serialization  # noqa: E402
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter  # noqa: E402
from pyhanko.sign import signers  # noqa: E402
from pyhanko.sign.timestamps import HTTPTimeStamper  # noqa: E402
from pyhanko_certvalidator.registry import SimpleCertificateStore  # noqa: E402

from signer import (  # noqa: E402
    InMemoryUsedStates,
    KeySigner,
    PadesLevel,
    Placement,
    SignatureKind,
    SignatureRequest,
    SigningEnvironment,
    StampImage,
    complete,
    prepare,
    sign_pdf,
)
from tests.support import documents  # noqa: E402
from tests.support.pki import build_test_pki  # noqa: E402
from tests.support.servers import free_port, serve_wsgi  # noqa: E402


def median_seconds(action, repeat: int) -> float:
    action()  # warm-up: imports, font and image caches, first TLS-free HTTP connection
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def pyhanko_with_key_signer(document: bytes, entity, timestamper) -> bytes:
    """pyHanko's default PdfSigner (dry run for the size, no appearance) over our KeySigner adapter: the
    same flow as stock without SimpleSigner's per-signature private-key parsing (~40 ms for RSA-2048)."""
    signer = KeySigner(entity.key, entity.certificate, entity.chain)
    writer = IncrementalPdfFileWriter(io.BytesIO(document))
    pdf_signer = signers.PdfSigner(signers.PdfSignatureMetadata(field_name="Signature1"), signer=signer,
                                   timestamper=timestamper)
    return pdf_signer.sign_pdf(writer).getvalue()


def stock_pyhanko(document: bytes, entity, timestamper) -> bytes:
    private = entity.key.private_key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                                   serialization.NoEncryption())
    signer = signers.SimpleSigner(
        signing_cert=entity.certificate, signing_key=asn1_keys.PrivateKeyInfo.load(private),
        cert_registry=SimpleCertificateStore.from_certs(entity.chain),
    )
    writer = IncrementalPdfFileWriter(io.BytesIO(document))
    pdf_signer = signers.PdfSigner(signers.PdfSignatureMetadata(field_name="Signature1"), signer=signer,
                                   timestamper=timestamper)
    return pdf_signer.sign_pdf(writer).getvalue()


def main() -> None:
    import logging

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    quick = "--quick" in sys.argv
    small_repeat, large_repeat = (5, 2) if quick else (25, 6)
    port = free_port()
    with tempfile.TemporaryDirectory() as directory:
        pki = build_test_pki(base_url=f"http://127.0.0.1:{port}", database_url=f"sqlite:///{directory}/ca.db")
        from service.pki import create_pki_app

        with serve_wsgi(create_pki_app(pki.authority), port=port):
            run(pki, small_repeat, large_repeat)
        pki.authority.store.close()


def run(pki, small_repeat: int, large_repeat: int) -> None:
    entity = pki.official_rsa
    environment = SigningEnvironment(trust_roots=pki.trust_roots, tsa_url=pki.tsa_url)
    stamp = StampImage.from_png(documents.signature_png(), role="signature")
    docs = {"1-page": documents.sample_decision(), "5 MB": documents.large_decision()}
    repeats = {"1-page": small_repeat, "5 MB": large_repeat}
    timestamper = HTTPTimeStamper(pki.tsa_url)

    def request(level, placement=True):
        return SignatureRequest(
            kind=SignatureKind.APPROVE, level=level, signature_image=stamp,
            placement=Placement(page=0, box=(360, 227, 480, 310)) if placement else None,
            title="GIÁM ĐỐC", signer_name=documents.SIGNER_NAME,
        ) if not placement else SignatureRequest(
            kind=SignatureKind.APPROVE, level=level, signature_image=stamp,
            placement=Placement(page=0, box=(360, 227, 480, 310)),
        )

    print("kyso signer benchmark (RSA-2048 in-memory key, SHA-256); medians; rate = signatures/s")
    print(f"{'document':8} {'level':5} {'stock pyHanko':>14} {'kyso':>10} {'ratio':>7}   kyso with text search"
          "   | pyHanko+KeySigner (ratio)")
    print("  (text search parses pages from the last one back; the 5 MB sample has its signature block on page 1")
    print("   of 20, the worst case: every page is parsed)")
    for name, document in docs.items():
        print(f"  ({name}: {len(document) / 1e6:.2f} MB)")
        for level in (PadesLevel.B_B, PadesLevel.B_T):
            ts = timestamper if level.has_timestamp else None
            stock = median_seconds(lambda: stock_pyhanko(document, entity, ts), repeats[name])
            ours = median_seconds(lambda: sign_pdf(document, key=entity.key, certificate=entity.certificate,
                                                   chain=entity.chain, request=request(level),
                                                   environment=environment), repeats[name])
            searched = median_seconds(lambda: sign_pdf(document, key=entity.key, certificate=entity.certificate,
                                                       chain=entity.chain, request=request(level, placement=False),
                                                       environment=environment), repeats[name])
            adapter = median_seconds(lambda: pyhanko_with_key_signer(document, entity, ts), repeats[name])
            print(f"{name:8} {level.value:5} {1 / stock:11.1f}/s {1 / ours:7.1f}/s {stock / ours:6.2f}x"
                  f"   {1 / searched:6.1f}/s ({stock / searched:.2f}x)"
                  f"        | {1 / adapter:6.1f}/s ({adapter / ours:.2f}x)")

    print("ratio = kyso rate / baseline rate. 'pyHanko+KeySigner': default PdfSigner flow (dry run) over our")
    print("DigestSigner adapter, i.e. stock without SimpleSigner's per-signature RSA key parsing; its ratio is")
    print("what reserving the size and prebuilt appearances buy on their own.")
    print("\nprepare / complete split (1-page, B-B and B-T):")
    for level in (PadesLevel.B_B, PadesLevel.B_T):
        states = []

        def do_prepare():
            states.append(prepare(docs["1-page"], certificate=entity.certificate, chain=entity.chain,
                                  request=request(level), environment=environment))

        prepare_time = median_seconds(do_prepare, small_repeat)
        pending = list(states)

        def do_complete():
            prepared = pending.pop()
            value = entity.key.sign_digest(prepared.digest, digest_algorithm=prepared.digest_algorithm,
                                           scheme=prepared.scheme)
            complete(prepared.state, value, environment=environment, used_states=InMemoryUsedStates())

        complete_time = median_seconds(do_complete, min(small_repeat, len(pending) - 1))
        print(f"  {level.value}: prepare {prepare_time * 1000:.1f} ms, complete {complete_time * 1000:.1f} ms")


if __name__ == "__main__":
    main()
