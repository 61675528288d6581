"""edXML fixtures: an issued decision (approved by a person, issued with the agency seal by our signer) and
packages built from it as QCVN 102:2016/BTTTT describes them, plus `xmlsec1` helpers (an independent tool).

Fixture API:
    issued_decision          -> IssuedDecision(pdf, number, issued_on): sample_decision() approved with
                                official_rsa and issued with agency_rsa (number 1 of "QĐ-UBND", B-LT)
    make_header(number=, notation=, promulgated_on=, ...) -> PackageHeader with test organisations
    make_package(pdf, header=None, extra=())               -> Package with the PDF as cid:1
    xmlsec1_sign(template_xml, key_entity, tmp_path, sha1=False) -> bytes signed by `xmlsec1 --sign`
    xmlsec1_verify(xml, pki, tmp_path) -> CompletedProcess of `xmlsec1 --verify` trusting the test root
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

SENDER_CODE = "000.00.00.H26"
RECIPIENT_CODE = "000.00.12.H26"


@dataclass(frozen=True)
class IssuedDecision:
    pdf: bytes
    number: int
    issued_on: date


@pytest.fixture(scope="session")
def issued_decision(pki) -> IssuedDecision:
    from signer import (PadesLevel, SignatureKind, SignatureRequest, SigningEnvironment, StampImage, VIETNAM,
                        sign_pdf)
    from tests.support import documents

    class OneNumber:
        def allocate(self, agency_code, year, series):
            return 7

    environment = SigningEnvironment(trust_roots=pki.trust_roots, tsa_url=pki.tsa_url, numbers=OneNumber())
    official, agency = pki.official_rsa, pki.agency_rsa
    approved = sign_pdf(
        documents.sample_decision(), key=official.key, certificate=official.certificate, chain=official.chain,
        request=SignatureRequest(kind=SignatureKind.APPROVE, level=PadesLevel.B_T,
                                 signature_image=StampImage.from_png(documents.signature_png(), role="signature"),
                                 title="GIÁM ĐỐC", signer_name=documents.SIGNER_NAME),
        environment=environment)
    issued = sign_pdf(
        approved.pdf, key=agency.key, certificate=agency.certificate, chain=agency.chain,
        request=SignatureRequest(kind=SignatureKind.ISSUE, level=PadesLevel.B_LT,
                                 seal_image=StampImage.from_png(documents.seal_png(), role="seal"),
                                 agency_code=SENDER_CODE, series="QĐ-UBND"),
        environment=environment)
    return IssuedDecision(issued.pdf, issued.number.number, issued.number.issued_on)


def make_header(*, number: int, promulgated_on: date, notation: str = "QĐ-UBND", subject: str | None = None):
    from edxml import Organisation, PackageHeader, SignerInfo
    from tests.support import documents

    return PackageHeader(
        sender=Organisation(SENDER_CODE, "UBND Thành phố Hà Nội", legacy_code="000.00.00.G22"),
        recipients=(Organisation(RECIPIENT_CODE, "Sở Nội vụ Thành phố Hà Nội"),),
        number=number, notation=notation, promulgated_on=promulgated_on, place="Hà Nội",
        document_type="Quyết định", subject=subject or "Về việc ban hành quy chế ký số văn bản điện tử",
        signer=SignerInfo(documents.SIGNER_NAME, "Giám đốc", "TM. ỦY BAN NHÂN DÂN"))


def make_package(pdf: bytes, *, header, extra=()):
    from edxml import Attachment, Package

    return Package(header, (Attachment("cid:1", "quyet-dinh.pdf", "application/pdf", pdf), *extra))


def _pem_files(entity, tmp_path: Path) -> tuple[Path, Path]:
    key_file = tmp_path / f"{entity.name}.key.pem"
    key_file.write_bytes(entity.key.private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    cert_file = tmp_path / f"{entity.name}.pem"
    cert_file.write_bytes(entity.pem)
    return key_file, cert_file


def xmlsec1_sign(template: bytes, entity, tmp_path: Path) -> bytes:
    """Sign a template (an envelope with an empty ds:Signature) with Debian's xmlsec1."""
    key_file, cert_file = _pem_files(entity, tmp_path)
    source = tmp_path / "template.xml"
    source.write_bytes(template)
    result = subprocess.run(["xmlsec1", "--sign", "--privkey-pem", f"{key_file},{cert_file}", str(source)],
                            capture_output=True, check=True)
    return result.stdout


def xmlsec1_verify(xml: bytes, pki, tmp_path: Path) -> subprocess.CompletedProcess:
    (tmp_path / "root.pem").write_bytes(pki.root.pem)
    (tmp_path / "gov.pem").write_bytes(pki.gov.pem)
    (tmp_path / "package.edxml").write_bytes(xml)
    return subprocess.run(["xmlsec1", "--verify", "--trusted-pem", str(tmp_path / "root.pem"),
                           "--untrusted-pem", str(tmp_path / "gov.pem"), str(tmp_path / "package.edxml")],
                          capture_output=True, text=True)


def signature_template(digest: str = "sha256", method: str = "rsa-sha256") -> str:
    """An empty enveloped ds:Signature for xmlsec1 --sign (W3C XML-DSig; SHA-1 URIs for old packages)."""
    digest_uri = {"sha1": "http://www.w3.org/2000/09/xmldsig#sha1",
                  "sha256": "http://www.w3.org/2001/04/xmlenc#sha256"}[digest]
    method_uri = {"rsa-sha1": "http://www.w3.org/2000/09/xmldsig#rsa-sha1",
                  "rsa-sha256": "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"}[method]
    return (
        '<Signature xmlns="http://www.w3.org/2000/09/xmldsig#"><SignedInfo>'
        '<CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>'
        f'<SignatureMethod Algorithm="{method_uri}"/><Reference URI=""><Transforms>'
        '<Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>'
        '<Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/></Transforms>'
        f'<DigestMethod Algorithm="{digest_uri}"/><DigestValue/></Reference></SignedInfo><SignatureValue/>'
        '<KeyInfo><X509Data><X509Certificate/></X509Data></KeyInfo></Signature>')
