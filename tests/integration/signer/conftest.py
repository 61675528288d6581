"""Judges and environments for the signer's integration tests.

Two independent judges for every PDF: pyHanko's validator (explicit trust roots, revocation fetched from the
test PKI on loopback) and poppler's `pdfsig` with an NSS database that trusts the test root (`C,C,C`) and
holds the CRLs (`crlutil`), as DESIGN.md requires for pdfsig to judge trust.
"""

from __future__ import annotations

import io
import subprocess
import threading
from dataclasses import dataclass

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from signer import SigningEnvironment, StampImage
from tests.support import documents


class CountingNumbers:
    """A NumberAllocator for tests: numbers from 1 per (agency, year, series), as Decree 30 art. 15 says."""

    def __init__(self):
        self.counters: dict[tuple[str, int, str], int] = {}
        self._lock = threading.Lock()

    def allocate(self, agency_code: str, year: int, series: str) -> int:
        with self._lock:
            key = (agency_code, year, series)
            self.counters[key] = self.counters.get(key, 0) + 1
            return self.counters[key]


@pytest.fixture
def environment(pki) -> SigningEnvironment:
    return SigningEnvironment(trust_roots=pki.trust_roots, tsa_url=pki.tsa_url, numbers=CountingNumbers())


@pytest.fixture(scope="session")
def signature_stamp() -> StampImage:
    return StampImage.from_png(documents.signature_png(), role="signature")


@pytest.fixture(scope="session")
def seal_stamp() -> StampImage:
    return StampImage.from_png(documents.seal_png(), role="seal")


@dataclass(frozen=True)
class PdfsigSignature:
    field: str
    signer: str
    signature_valid: bool
    certificate_trusted: bool
    whole_document: bool
    raw: str


def parse_pdfsig(output: str) -> list[PdfsigSignature]:
    blocks = output.split("Signature #")[1:]
    result = []
    for block in blocks:
        def value(label: str) -> str:
            for line in block.splitlines():
                if line.strip().startswith(f"- {label}:"):
                    return line.split(":", 1)[1].strip()
            return ""
        result.append(PdfsigSignature(
            field=value("Signature Field Name"),
            signer=value("Signer Certificate Common Name"),
            signature_valid=value("Signature Validation") == "Signature is Valid.",
            certificate_trusted=value("Certificate Validation") == "Certificate is Trusted.",
            whole_document="Total document signed" in block,
            raw=block,
        ))
    return result


@pytest.fixture(scope="session")
def pdfsig(pki, tmp_path_factory):
    """Call `pdfsig(pdf_bytes)` -> list of PdfsigSignature, judged by an NSS database trusting the test root."""
    directory = tmp_path_factory.mktemp("nss")
    nss = f"sql:{directory}"
    subprocess.run(["certutil", "-N", "-d", nss, "--empty-password"], check=True, capture_output=True)
    root = directory / "root.der"
    root.write_bytes(pki.root.certificate.dump())
    subprocess.run(["certutil", "-A", "-d", nss, "-n", "kyso-test-root", "-t", "C,C,C", "-i", str(root)],
                   check=True, capture_output=True)
    gov = directory / "gov.der"
    gov.write_bytes(pki.gov.certificate.dump())
    subprocess.run(["certutil", "-A", "-d", nss, "-n", "kyso-test-gov", "-t", ",,", "-i", str(gov)],
                   check=True, capture_output=True)
    for ca_name in ("root", "gov"):
        crl = directory / f"{ca_name}.crl"
        crl.write_bytes(pki.crl_der(ca_name))
        subprocess.run(["crlutil", "-I", "-d", nss, "-i", str(crl), "-B"], check=True, capture_output=True)
    counter = iter(range(1_000_000))

    def judge(pdf: bytes) -> list[PdfsigSignature]:
        path = directory / f"judged-{next(counter)}.pdf"
        path.write_bytes(pdf)
        done = subprocess.run(["pdfsig", "-nssdir", nss, str(path)], capture_output=True, text=True, timeout=120)
        return parse_pdfsig(done.stdout)

    return judge


def pyhanko_statuses(pdf: bytes, pki, *, offline_from_dss: bool = False):
    """pyHanko's judgement of every signature (field name -> status), trusting only the test root.

    `offline_from_dss`: no fetching, revocation required, only the document's own DSS as evidence (B-LT)."""
    from pyhanko.sign.validation import DocumentSecurityStore

    reader = PdfFileReader(io.BytesIO(pdf))
    statuses = {}
    for embedded in reader.embedded_regular_signatures:
        if offline_from_dss:
            context = DocumentSecurityStore.read_dss(reader).as_validation_context(
                {"trust_roots": pki.trust_roots, "allow_fetching": False, "revocation_mode": "hard-fail"}
            )
        else:
            context = ValidationContext(trust_roots=pki.trust_roots, allow_fetching=True)
        statuses[embedded.field_name] = validate_pdf_signature(embedded, signer_validation_context=context)
    return statuses


@pytest.fixture(scope="session")
def judge_statuses(pki):
    return lambda pdf, **kwargs: pyhanko_statuses(pdf, pki, **kwargs)
