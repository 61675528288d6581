"""CAdES detached signatures (.p7s) over any file, judged by `openssl cms -verify` and pyHanko."""

from __future__ import annotations

import asyncio
import subprocess

import pytest
from asn1crypto import cms
from pyhanko.sign.validation import async_validate_detached_cms
from pyhanko_certvalidator import ValidationContext

from signer import sign_cades
from signer.errors import KeyMismatch


def _openssl_verify(tmp_path, pki, content: bytes, p7s: bytes) -> subprocess.CompletedProcess:
    (tmp_path / "content.xml").write_bytes(content)
    (tmp_path / "sig.p7s").write_bytes(p7s)
    (tmp_path / "roots.pem").write_bytes(pki.root.pem)
    (tmp_path / "chain.pem").write_bytes(pki.gov.pem)
    return subprocess.run(
        ["openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", str(tmp_path / "sig.p7s"),
         "-content", str(tmp_path / "content.xml"), "-CAfile", str(tmp_path / "roots.pem"),
         "-certfile", str(tmp_path / "chain.pem"), "-purpose", "any", "-out", "/dev/null"],
        capture_output=True, text=True,
    )


@pytest.mark.integration
@pytest.mark.parametrize("with_timestamp", [False, True], ids=["B-B", "B-T"])
@pytest.mark.parametrize("agency", ["agency_rsa", "agency_ec"])
def test_detached_signature_verifies_with_openssl_and_pyhanko(pki, environment, tmp_path, agency,
                                                              with_timestamp):
    entity = pki.entity(agency)
    content = "<edXML><Subject>Công văn số 12/UBND-VP</Subject></edXML>".encode()
    p7s = sign_cades(content, key=entity.key, certificate=entity.certificate, chain=entity.chain,
                     timestamper=environment.timestamper if with_timestamp else None)

    verified = _openssl_verify(tmp_path, pki, content, p7s)
    assert verified.returncode == 0, verified.stderr
    assert "Verification successful" in verified.stderr

    signed_data = cms.ContentInfo.load(p7s)["content"]
    assert signed_data["encap_content_info"]["content"].native is None  # detached
    signer_info = signed_data["signer_infos"][0]
    signed_attribute_types = {a["type"].native for a in signer_info["signed_attrs"]}
    assert "signing_certificate_v2" in signed_attribute_types  # CAdES-B needs ESS signing-certificate-v2
    unsigned = signer_info["unsigned_attrs"].native or []
    assert any(a["type"] == "signature_time_stamp_token" for a in unsigned) is with_timestamp

    context = ValidationContext(trust_roots=pki.trust_roots, allow_fetching=True)
    status = asyncio.run(async_validate_detached_cms(content, signed_data, signer_validation_context=context))
    assert status.bottom_line, status.pretty_print_details()

    tampered = _openssl_verify(tmp_path, pki, content + b" ", p7s)
    assert tampered.returncode != 0


@pytest.mark.integration
def test_cades_refuses_a_key_that_is_not_the_certificates(pki):
    with pytest.raises(KeyMismatch) as caught:
        sign_cades(b"data", key=pki.agency_ec.key, certificate=pki.official_ec.certificate)
    assert str(caught.value) == "khóa không khớp với chứng thư số / the key does not belong to the certificate"


@pytest.mark.integration
def test_cades_checks_the_certificate_like_pdfs_do(pki, environment):
    from signer import SignatureKind
    from signer.errors import CertificateKindMismatch, CertificateRevoked

    revoked = pki.revoked
    with pytest.raises(CertificateRevoked):
        sign_cades(b"data", key=revoked.key, certificate=revoked.certificate, chain=revoked.chain,
                   environment=environment)
    official = pki.official_ec
    with pytest.raises(CertificateKindMismatch) as caught:
        sign_cades(b"data", key=official.key, certificate=official.certificate, chain=official.chain,
                   environment=environment, kind=SignatureKind.COPY)
    assert "copy signatures need an organisation certificate, this one is a personal" in str(caught.value)
    p7s = sign_cades(b"data", key=official.key, certificate=official.certificate, chain=official.chain,
                     environment=environment, kind=SignatureKind.APPROVE)
    assert cms.ContentInfo.load(p7s)["content_type"].native == "signed_data"
