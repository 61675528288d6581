"""OCSP answers from pre-built parts (the same bytes as asn1crypto's encoding) and the RFC 5019 cache."""

from __future__ import annotations

from datetime import datetime, timedelta

from asn1crypto import core, ocsp
from cryptography.x509 import ocsp as cocsp

from ca.certificates import key_identifier
from ca.ocsp import RESPONSE_VALIDITY, OcspResponder, ResponseTemplate, _status_der
from ca.requests import build_csr
from ca.revocation import CertificateState, CertificateStatus, RevocationReason
from ca.signing import sign_bytes, signature_parameters
from signer.keys import InMemoryKey
from tests.support.pki import ocsp_request
from tests.unit.ca.conftest import CA_ORG, NOW, PERSON


def reference_response(responder: OcspResponder, *, cert_ids, states, nonce, now: datetime) -> bytes:
    """The answer as asn1crypto builds it from values (the way kyso built every answer before issue 12)."""
    responses = [{"cert_id": cert_id, "cert_status": state, "this_update": now,
                  "next_update": now + RESPONSE_VALIDITY} for cert_id, state in zip(cert_ids, states)]
    extensions = [{"extn_id": "nonce", "critical": False, "extn_value": nonce}] if nonce is not None else None
    data = ocsp.ResponseData({
        "version": "v1",
        "responder_id": ocsp.ResponderId(name="by_key", value=key_identifier(responder.certificate.public_key)),
        "produced_at": now, "responses": responses, "response_extensions": extensions,
    })
    parameters = signature_parameters(responder.key.public_key_info())
    basic = {"tbs_response_data": data, "signature_algorithm": parameters.algorithm_identifier,
             "signature": sign_bytes(responder.key, data.dump(), parameters)}
    if responder.delegated:
        basic["certs"] = [responder.certificate]
    return ocsp.OCSPResponse({"response_status": "successful", "response_bytes": {
        "response_type": "basic_ocsp_response", "response": ocsp.BasicOCSPResponse(basic)}}).dump()


def test_template_answers_equal_asn1crypto_encoding_byte_for_byte(authority):
    # PKCS#1 v1.5 signatures are deterministic, so two encodings of one answer can be compared byte for byte.
    key = InMemoryKey.generate_rsa()
    issued = authority.issue(issuer="gov", profile="ocsp", public_key=key.public_key_info(),
                             attributes=[("country_name", "VN"), CA_ORG, ("common_name", "RSA OCSP")])
    gov = authority.issuer("gov").certificate
    revoked = CertificateStatus(CertificateState.REVOKED, NOW - timedelta(hours=3), RevocationReason.KEY_COMPROMISE)
    for delegated in (True, False):
        responder = OcspResponder(issued.certificate, key, delegated=delegated)
        template = ResponseTemplate.build(responder)
        for nonce, statuses in [(b"nonce-0123456789", [CertificateStatus(CertificateState.GOOD)]),
                                (None, [revoked, CertificateStatus(CertificateState.UNKNOWN)])]:
            cert_ids = [ocsp.OCSPRequest.load(ocsp_request(gov, 1000 + index))["tbs_request"]["request_list"][0]
                        ["req_cert"] for index in range(len(statuses))]
            from ca import der
            singles = [der.sequence(c.dump(), _status_der(s), der.generalized_time(NOW),
                                    der.explicit(0, der.generalized_time(NOW + RESPONSE_VALIDITY)))
                       for c, s in zip(cert_ids, statuses)]
            extensions = b""
            if nonce is not None:
                extensions = der.explicit(1, der.sequence(der.sequence(
                    core.ObjectIdentifier("1.3.6.1.5.5.7.48.1.2").dump(),
                    der.octet_string(core.OctetString(nonce).dump()))))
            fast = template.response(singles=singles, produced_at=NOW, extensions=extensions)
            states = [ocsp.CertStatus.load(_status_der(s)) for s in statuses]
            assert fast == reference_response(responder, cert_ids=cert_ids, states=states, nonce=nonce, now=NOW)


def test_nonce_less_answers_come_from_the_cache_until_max_age(authority, clock):
    person = authority.issue_from_csr(build_csr(PERSON, InMemoryKey.generate_ec()), issuer="gov", profile="personal")
    gov = authority.issuer("gov").certificate
    request = ocsp_request(gov, person.serial_number, nonce=None)
    first = authority.respond_ocsp(request)
    clock.now = NOW + timedelta(seconds=59)
    assert authority.respond_ocsp(request) == first  # the same signed bytes (ECDSA would differ if re-signed)
    clock.now = NOW + timedelta(seconds=60)
    third = authority.respond_ocsp(request)
    assert third != first
    assert cocsp.load_der_ocsp_response(third).produced_at_utc == NOW + timedelta(seconds=60)


def test_a_nonce_always_gets_a_fresh_answer(authority):
    gov = authority.issuer("gov").certificate
    request = ocsp_request(gov, 12345)
    first, second = authority.respond_ocsp(request), authority.respond_ocsp(request)
    assert first != second  # ECDSA signs anew each time
    assert cocsp.load_der_ocsp_response(second).certificate_status is cocsp.OCSPCertStatus.UNKNOWN


def test_revoking_drops_the_cached_good_answer_at_once(authority, clock):
    person = authority.issue_from_csr(build_csr(PERSON, InMemoryKey.generate_ec()), issuer="gov", profile="personal")
    request = ocsp_request(authority.issuer("gov").certificate, person.serial_number, nonce=None)
    good = cocsp.load_der_ocsp_response(authority.respond_ocsp(request))
    assert good.certificate_status is cocsp.OCSPCertStatus.GOOD
    authority.revoke(person.serial_number, reason=RevocationReason.KEY_COMPROMISE)
    clock.now = NOW + timedelta(seconds=1)
    revoked = cocsp.load_der_ocsp_response(authority.respond_ocsp(request))
    assert revoked.certificate_status is cocsp.OCSPCertStatus.REVOKED
    assert revoked.revocation_reason.name == "key_compromise"
