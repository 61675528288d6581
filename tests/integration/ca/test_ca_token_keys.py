"""CA keys on a SoftHSM token in this process (python-pkcs11 behind token_bridge), used from threads."""

from __future__ import annotations

import concurrent.futures
import subprocess

import pytest
from asn1crypto import pem
from cryptography import x509 as cx509
from cryptography.hazmat.primitives.asymmetric import ec

from ca.authority import Authority, OcspResponder
from ca.endpoints import PkiEndpoints
from ca.errors import CaError
from ca.requests import build_csr
from ca.revocation import RevocationReason
from ca.store import Store
from signer.keys import InMemoryKey

pytestmark = pytest.mark.integration

PERSON = [("country_name", "VN"), ("organization_name", "UBND Phường Hoàn Kiếm"), ("common_name", "Nguyễn Văn An"),
          ("user_id", "CCCD:001085012345")]


@pytest.fixture(scope="module")
def ca_token(softhsm):
    token = softhsm.create_token("ca-test-ca-keys")
    return {
        "root": token.generate_rsa("root", b"\x01"),
        "gov": token.generate_ec("gov", b"\x02"),
        "ocsp": token.generate_ec("ocsp", b"\x03"),
    }


@pytest.fixture
def authority(ca_token, database_url):
    org = ("organization_name", "Ban Co yeu Chinh phu")
    authority = Authority(store=Store.open(database_url), endpoints=PkiEndpoints("http://pki.test"))
    authority.create_root("root", key=ca_token["root"],
                          attributes=[("country_name", "VN"), org, ("common_name", "Token Root")])
    authority.create_subordinate("gov", parent="root", key=ca_token["gov"],
                                 attributes=[("country_name", "VN"), org, ("common_name", "Token Gov CA")])
    ocsp = authority.issue(issuer="gov", profile="ocsp", public_key=ca_token["ocsp"].public_key_info(),
                           attributes=[("country_name", "VN"), org, ("common_name", "Token OCSP")])
    authority.set_ocsp_responder("gov", OcspResponder(ocsp.certificate, ca_token["ocsp"], delegated=True))
    yield authority
    authority.store.close()


def test_twenty_threads_issue_through_the_token(authority, tmp_path):
    csrs = [build_csr(PERSON, InMemoryKey.generate_ec()) for _ in range(20)]
    with concurrent.futures.ThreadPoolExecutor(max_workers=6) as pool:
        issued = list(pool.map(lambda csr: authority.issue_from_csr(csr, issuer="gov", profile="personal"), csrs))
    assert len({item.serial_number for item in issued}) == 20
    gov = cx509.load_der_x509_certificate(authority.issuer("gov").certificate.dump())
    for item in issued:  # every signature made on the token verifies with the CA's public key
        cx509.load_der_x509_certificate(item.certificate.dump()).verify_directly_issued_by(gov)
    root = tmp_path / "root.pem"
    root.write_bytes(pem.armor("CERTIFICATE", authority.issuer("root").certificate.dump()))
    chain = tmp_path / "gov.pem"
    chain.write_bytes(pem.armor("CERTIFICATE", authority.issuer("gov").certificate.dump()))
    leaf = tmp_path / "leaf.pem"
    leaf.write_bytes(pem.armor("CERTIFICATE", issued[0].certificate.dump()))
    result = subprocess.run(["openssl", "verify", "-CAfile", str(root), "-untrusted", str(chain), str(leaf)],
                            capture_output=True, text=True)
    assert result.stdout.strip() == f"{leaf}: OK"


def test_crl_and_ocsp_signed_on_the_token(authority):
    from cryptography.x509 import ocsp as cocsp

    from tests.support.pki import ocsp_request

    issued = authority.issue_from_csr(build_csr(PERSON, InMemoryKey.generate_ec()), issuer="gov", profile="personal")
    authority.revoke(issued.serial_number, reason=RevocationReason.PRIVILEGE_WITHDRAWN)
    crl = cx509.load_der_x509_crl(authority.publish_crl("gov").dump())
    gov = cx509.load_der_x509_certificate(authority.issuer("gov").certificate.dump())
    assert crl.is_signature_valid(gov.public_key())
    assert crl.get_revoked_certificate_by_serial_number(issued.serial_number).extensions.get_extension_for_class(
        cx509.CRLReason).value.reason is cx509.ReasonFlags.privilege_withdrawn
    root_crl = cx509.load_der_x509_crl(authority.publish_crl("root").dump())  # RSA PKCS#1 v1.5 on the token
    root = cx509.load_der_x509_certificate(authority.issuer("root").certificate.dump())
    assert root_crl.is_signature_valid(root.public_key())
    response = cocsp.load_der_ocsp_response(
        authority.respond_ocsp(ocsp_request(authority.issuer("gov").certificate, issued.serial_number)))
    assert response.certificate_status is cocsp.OCSPCertStatus.REVOKED
    responder = cx509.load_der_x509_certificate(authority.ocsp_responder("gov").certificate.dump())
    responder.public_key().verify(response.signature, response.tbs_response_bytes,
                                  ec.ECDSA(response.signature_hash_algorithm))


def test_attaching_a_key_that_does_not_match_is_refused(authority, ca_token):
    with pytest.raises(CaError) as caught:
        authority.attach_issuer("other", certificate=authority.issuer("gov").certificate, key=ca_token["root"])
    assert caught.value.english == "the key does not match the certificate of CA other"
