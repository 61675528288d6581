"""OCSP (RFC 6960) and time-stamping (RFC 3161) responders: request bytes in, response bytes out."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from cryptography import x509 as cx509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509 import ocsp as cocsp

from ca.requests import build_csr
from ca.revocation import RevocationReason
from ca.tsa import TimeStampResponse
from signer.keys import InMemoryKey
from tests.support.pki import ocsp_request
from tests.support.pki import time_stamp_request as ts_request
from tests.unit.ca.conftest import NOW, PERSON


def single(response_der: bytes):
    response = cocsp.load_der_ocsp_response(response_der)
    assert response.response_status is cocsp.OCSPResponseStatus.SUCCESSFUL
    return response


def verify_ocsp_signature(response, authority):
    responder = cx509.load_der_x509_certificate(authority.ocsp_responder("gov").certificate.dump())
    responder.public_key().verify(response.signature, response.tbs_response_bytes,
                                  ec.ECDSA(response.signature_hash_algorithm))


@pytest.fixture
def person(authority):
    return authority.issue_from_csr(build_csr(PERSON, InMemoryKey.generate_ec()), issuer="gov", profile="personal")


def test_good_then_revoked_with_time_and_reason(authority, person, clock):
    gov = authority.issuer("gov").certificate
    good = single(authority.respond_ocsp(ocsp_request(gov, person.serial_number)))
    assert good.certificate_status is cocsp.OCSPCertStatus.GOOD
    assert good.serial_number == person.serial_number
    assert good.produced_at_utc == NOW
    assert good.next_update_utc == NOW + timedelta(hours=12)
    assert good.extensions.get_extension_for_class(cx509.OCSPNonce).value.nonce == b"nonce-0123456789"
    assert [c.subject.rfc4514_string() for c in good.certificates] == ["CN=Demo OCSP,O=Ban Co yeu Chinh phu,C=VN"]
    verify_ocsp_signature(good, authority)

    authority.revoke(person.serial_number, reason=RevocationReason.KEY_COMPROMISE,
                     revoked_at=NOW - timedelta(hours=3))
    clock.now = NOW + timedelta(minutes=1)
    revoked = single(authority.respond_ocsp(ocsp_request(gov, person.serial_number, algorithm="sha256")))
    assert revoked.certificate_status is cocsp.OCSPCertStatus.REVOKED
    assert revoked.revocation_time_utc == NOW - timedelta(hours=3)
    assert revoked.revocation_reason is cx509.ReasonFlags.key_compromise
    verify_ocsp_signature(revoked, authority)


def test_unknown_serial_and_no_nonce(authority):
    response = single(authority.respond_ocsp(ocsp_request(authority.issuer("gov").certificate, 12345, nonce=None)))
    assert response.certificate_status is cocsp.OCSPCertStatus.UNKNOWN
    assert len(response.extensions) == 0


def test_issuer_status_answered_by_the_root_itself(authority):
    root = authority.issuer("root").certificate
    response = single(authority.respond_ocsp(ocsp_request(root, authority.issuer("gov").certificate.serial_number)))
    assert response.certificate_status is cocsp.OCSPCertStatus.GOOD
    assert response.certificates == []  # signed by the CA key, no delegated certificate
    cx509.load_der_x509_certificate(root.dump()).public_key().verify(
        response.signature, response.tbs_response_bytes, ec.ECDSA(hashes.SHA384()))


@pytest.mark.parametrize("garbage", [b"", b"garbage", b"\x30\x80\x00\x00", b"\x30\x03\x02\x01\x01"])
def test_garbage_gets_malformed_request(authority, garbage):
    response = cocsp.load_der_ocsp_response(authority.respond_ocsp(garbage))
    assert response.response_status is cocsp.OCSPResponseStatus.MALFORMED_REQUEST


def test_foreign_issuer_gets_unauthorized(authority, person):
    stranger = authority.issue(issuer="gov", profile="ocsp", public_key=InMemoryKey.generate_ec().public_key_info(),
                               attributes=[("country_name", "VN"), ("organization_name", "X"), ("common_name", "X")])
    response = cocsp.load_der_ocsp_response(authority.respond_ocsp(ocsp_request(stranger.certificate, 1)))
    assert response.response_status is cocsp.OCSPResponseStatus.UNAUTHORIZED


@pytest.mark.parametrize("algorithm", ["sha256", "sha384", "sha512"])
def test_time_stamp_tokens(authority, algorithm):
    response = TimeStampResponse.load(authority.stamp(ts_request(b"van ban", algorithm=algorithm)))
    assert response["status"]["status"].native == "granted"
    signed = response["time_stamp_token"]["content"]
    info = signed["encap_content_info"]["content"].parsed
    assert info["message_imprint"]["hash_algorithm"]["algorithm"].native == algorithm
    assert info["message_imprint"]["hashed_message"].native == hashlib.new(algorithm, b"van ban").digest()
    assert info["gen_time"].native == NOW
    assert info["nonce"].native == 7
    assert info["policy"].native == "2.16.704.99.2.1"
    assert info["serial_number"].native == 1 << 20  # the first serial of block 1 (ca.serials)
    assert len(signed["certificates"]) == 3
    # the signature over the signed attributes verifies with the TSA certificate's key
    signer_info = signed["signer_infos"][0]
    tsa_cert = cx509.load_der_x509_certificate(authority.tsa.certificate.dump())
    tsa_cert.public_key().verify(signer_info["signature"].native, b"\x31" + signer_info["signed_attrs"].dump()[1:],
                                 ec.ECDSA(hashes.SHA256()))


def test_serials_unique_and_certificates_only_on_request(authority):
    serials = set()
    for nonce in range(4):
        response = TimeStampResponse.load(authority.stamp(ts_request(b"x", nonce=nonce, cert_req=False)))
        signed = response["time_stamp_token"]["content"]
        assert signed["certificates"].native is None
        serials.add(signed["encap_content_info"]["content"].parsed["serial_number"].native)
    assert serials == {(1 << 20) + index for index in range(4)}


@pytest.mark.parametrize(
    "request_bytes, fail_info, text",
    [
        (b"garbage", {"bad_request"}, "the request is not a readable RFC 3161 TimeStampReq"),
        (ts_request(b"x", algorithm="sha1"), {"bad_alg"}, "digest algorithm sha1 is not accepted (sha256, sha384, sha512)"),
        (ts_request(b"x", imprint=b"short"), {"bad_data_format"}, "the sha256 imprint must be 32 bytes"),
        (ts_request(b"x", policy="1.2.3.4"), {"unaccepted_policy"}, "policy 1.2.3.4 is not offered (only 2.16.704.99.2.1)"),
    ],
)
def test_bad_time_stamp_requests(authority, request_bytes, fail_info, text):
    before = authority.store.table_contents()
    response = TimeStampResponse.load(authority.stamp(request_bytes))
    status = response["status"]
    assert status["status"].native == "rejection"
    assert status["fail_info"].native == fail_info
    assert status["status_string"].native == [text]
    assert authority.store.table_contents() == before


def test_several_certificates_in_one_request(authority, person):
    from asn1crypto import ocsp

    gov = authority.issuer("gov").certificate
    root = authority.issuer("root").certificate
    first = ocsp.OCSPRequest.load(ocsp_request(gov, person.serial_number))
    foreign = ocsp.OCSPRequest.load(ocsp_request(root, authority.issuer("gov").certificate.serial_number))
    unknown = ocsp.OCSPRequest.load(ocsp_request(gov, 0xABCDEF))
    combined = ocsp.OCSPRequest({"tbs_request": {"request_list": [
        first["tbs_request"]["request_list"][0],
        foreign["tbs_request"]["request_list"][0],
        unknown["tbs_request"]["request_list"][0],
    ]}}).dump()
    response = ocsp.OCSPResponse.load(authority.respond_ocsp(combined))
    answers = response.basic_ocsp_response["tbs_response_data"]["responses"]
    # signed by gov's responder, so the root-issued certificate is not answered for: unknown
    assert [a["cert_status"].name for a in answers] == ["good", "unknown", "unknown"]
    assert [a["cert_id"]["serial_number"].native for a in answers] == [
        person.serial_number, authority.issuer("gov").certificate.serial_number, 0xABCDEF]
