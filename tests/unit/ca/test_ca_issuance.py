"""Issuance from CSRs: what goes into the certificate, and every refusal with its exact reason."""

from __future__ import annotations

from datetime import timedelta

import pytest
from asn1crypto import csr as asn1_csr
from cryptography import x509 as cx509
from cryptography.hazmat.primitives.asymmetric import rsa

from ca.errors import InvalidCsr, RequestRejected, UnknownAuthority, UnknownCertificate
from ca.requests import build_csr, read_csr
from ca.revocation import RevocationReason
from policies.identity import HolderKind, parse_identity
from signer.keys import InMemoryKey
from tests.unit.ca.conftest import AGENCY, NOW, PERSON


def extensions(certificate):
    return {e["extn_id"].native: (e["critical"].native, e["extn_value"].native)
            for e in certificate["tbs_certificate"]["extensions"]}


def test_personal_certificate_from_csr(authority):
    key = InMemoryKey.generate_ec()
    issued = authority.issue_from_csr(build_csr(PERSON, key), issuer="gov", profile="personal")
    certificate = issued.certificate
    assert certificate.subject.native == {
        "country_name": "VN", "locality_name": "Hà Nội", "organization_name": "UBND Phường Hoàn Kiếm",
        "title": "Chủ tịch", "common_name": "Nguyễn Văn An", "user_id": "CCCD:001085012345",
    }
    assert parse_identity(certificate).holder_kind is HolderKind.PERSON
    assert certificate.public_key.dump() == key.public_key_info().dump()
    assert certificate.serial_number >= 1 << 64
    assert certificate.not_valid_before == NOW
    assert certificate.not_valid_after == NOW + timedelta(days=1826)
    ext = extensions(certificate)
    assert ext["key_usage"] == (True, {"digital_signature", "non_repudiation"})
    assert ext["basic_constraints"] == (True, {"ca": False, "path_len_constraint": None})
    assert ext["extended_key_usage"] == (False, ["1.3.6.1.5.5.7.3.36", "email_protection", "client_auth"])
    assert ext["crl_distribution_points"][1][0]["distribution_point"] == ["http://pki.test/pki/gov.crl"]
    assert issued.chain == (authority.issuer("gov").certificate, authority.issuer("root").certificate)
    assert issued.record.profile == "personal"
    assert issued.record.subject == certificate.subject.human_friendly
    # cryptography, an independent reader, checks the issuer's signature
    cert = cx509.load_der_x509_certificate(certificate.dump())
    cert.verify_directly_issued_by(cx509.load_der_x509_certificate(authority.issuer("gov").certificate.dump()))


def test_agency_certificate_is_an_organisation(authority):
    issued = authority.issue_from_csr(build_csr(AGENCY, InMemoryKey.generate_ec()), issuer="gov", profile="agency")
    assert parse_identity(issued.certificate).holder_kind is HolderKind.ORGANISATION


def test_serials_are_distinct(authority):
    key = InMemoryKey.generate_ec()
    serials = {authority.issue_from_csr(build_csr(PERSON, key), issuer="gov", profile="personal").serial_number
               for _ in range(5)}
    assert len(serials) == 5


def test_broken_csr_signature_is_refused(authority):
    request = asn1_csr.CertificationRequest.load(build_csr(PERSON, InMemoryKey.generate_ec()))
    # sign the request with another key: a valid-looking signature that does not match the public key
    other = asn1_csr.CertificationRequest.load(build_csr(PERSON, InMemoryKey.generate_ec()))
    forged = asn1_csr.CertificationRequest({
        "certification_request_info": request["certification_request_info"],
        "signature_algorithm": request["signature_algorithm"],
        "signature": other["signature"].native,
    }).dump()
    with pytest.raises(InvalidCsr) as caught:
        authority.issue_from_csr(forged, issuer="gov", profile="personal")
    assert caught.value.english == "the CSR signature does not verify (no proof of possession of the key)"


def test_garbage_is_not_a_csr():
    with pytest.raises(InvalidCsr) as caught:
        read_csr(b"\x30\x03\x02\x01\x05 not a csr")
    assert caught.value.english == "the certificate request is not a readable PKCS#10 CSR"


def test_pem_csr_is_read():
    from asn1crypto import pem
    der = build_csr(PERSON, InMemoryKey.generate_ec())
    assert read_csr(pem.armor("CERTIFICATE REQUEST", der)).der == der


def test_weak_rsa_key_is_refused(authority):
    weak = InMemoryKey(rsa.generate_private_key(public_exponent=65537, key_size=1024))
    with pytest.raises(RequestRejected) as caught:
        authority.issue_from_csr(build_csr(PERSON, weak), issuer="gov", profile="personal")
    assert caught.value.english == "RSA key of 1024 bits is too weak (minimum 2048)"
    assert caught.value.vietnamese == "khóa RSA 1024 bit quá yếu (tối thiểu 2048)"


def test_subject_outside_the_profile_is_refused(authority):
    with pytest.raises(RequestRejected) as caught:
        authority.issue_from_csr(build_csr(PERSON, InMemoryKey.generate_ec()), issuer="gov", profile="agency")
    assert caught.value.english == "profile agency does not allow the subject attribute T"


def test_validity_limits(authority):
    key = InMemoryKey.generate_ec()
    with pytest.raises(RequestRejected) as caught:
        authority.issue_from_csr(build_csr(PERSON, key), issuer="gov", profile="personal", validity_days=1827)
    assert caught.value.english == "validity exceeds the 1826 days allowed by profile personal"
    issued = authority.issue_from_csr(build_csr(PERSON, key), issuer="gov", profile="personal", validity_days=1826)
    assert issued.certificate.not_valid_after - issued.certificate.not_valid_before == timedelta(days=1826)
    with pytest.raises(RequestRejected) as caught:
        authority.issue_from_csr(build_csr(PERSON, key), issuer="gov", profile="personal",
                                 not_before=NOW - timedelta(days=400))
    assert caught.value.english == "validity falls outside the validity of CA gov"


def test_unknown_issuer_and_profile(authority):
    csr = build_csr(PERSON, InMemoryKey.generate_ec())
    with pytest.raises(UnknownAuthority) as caught:
        authority.issue_from_csr(csr, issuer="vnpt", profile="personal")
    assert caught.value.english == "no CA named 'vnpt' (known: gov, root)"
    with pytest.raises(RequestRejected) as caught:
        authority.issue_from_csr(csr, issuer="gov", profile="seal")
    assert "unknown certificate profile 'seal'" in caught.value.english


def test_revocation_is_idempotent_and_timed(authority, clock):
    issued = authority.issue_from_csr(build_csr(PERSON, InMemoryKey.generate_ec()), issuer="gov", profile="personal")
    first = authority.revoke(issued.serial_number, reason=RevocationReason.KEY_COMPROMISE)
    assert first.newly_revoked is True
    assert first.record.revoked_at == NOW
    assert first.record.revocation_reason is RevocationReason.KEY_COMPROMISE
    clock.now = NOW + timedelta(hours=1)
    again = authority.revoke(issued.serial_number, reason=RevocationReason.SUPERSEDED)
    assert again.newly_revoked is False
    assert again.record.revoked_at == NOW
    assert again.record.revocation_reason is RevocationReason.KEY_COMPROMISE


def test_revoking_an_unknown_serial(authority):
    with pytest.raises(UnknownCertificate) as caught:
        authority.revoke(0xDEADBEEF, reason=RevocationReason.UNSPECIFIED)
    assert caught.value.english == "no certificate with serial DEADBEEF was issued here"


def test_revocation_reason_parsing():
    assert RevocationReason.parse("keyCompromise") is RevocationReason.KEY_COMPROMISE
    assert RevocationReason.parse("cessation-of-operation") is RevocationReason.CESSATION_OF_OPERATION
    with pytest.raises(Exception) as caught:
        RevocationReason.parse("lost")
    assert "unknown revocation reason 'lost'" in str(caught.value)


def test_crl_numbers_increase_and_list_revocations(authority, clock):
    from asn1crypto import crl as asn1_crl

    issued = authority.issue_from_csr(build_csr(PERSON, InMemoryKey.generate_ec()), issuer="gov", profile="personal")
    first = authority.publish_crl("gov")
    authority.revoke(issued.serial_number, reason=RevocationReason.AFFILIATION_CHANGED)
    clock.now = NOW + timedelta(minutes=5)
    second = asn1_crl.CertificateList.load(authority.current_crl("gov"))
    assert second.dump() == first.dump()  # still within nextUpdate: the published one is served
    third = authority.publish_crl("gov")
    assert (first.crl_number_value.native, third.crl_number_value.native) == (1, 2)
    assert third["tbs_cert_list"]["next_update"].native == NOW + timedelta(minutes=5, days=7)
    entries = third["tbs_cert_list"]["revoked_certificates"]
    assert [(e["user_certificate"].native, e.crl_reason_value.native) for e in entries] == [
        (issued.serial_number, "affiliation_changed")
    ]
    clock.now = NOW + timedelta(days=8)  # past nextUpdate: a new one is published on demand
    fourth = asn1_crl.CertificateList.load(authority.current_crl("gov"))
    assert fourth.crl_number_value.native == 3


def test_validity_boundaries_one_second_either_side(authority):
    """STYLE.md: time checks tested one second either side of the boundary."""
    key = InMemoryKey.generate_ec()
    csr = build_csr(PERSON, key)
    limit = timedelta(days=1826)
    exact = authority.issue_from_csr(csr, issuer="gov", profile="personal", not_before=NOW, not_after=NOW + limit)
    assert exact.certificate.not_valid_after == NOW + limit
    with pytest.raises(RequestRejected):
        authority.issue_from_csr(csr, issuer="gov", profile="personal", not_before=NOW,
                                 not_after=NOW + limit + timedelta(seconds=1))
    gov = authority.issuer("gov").certificate
    inside = authority.issue_from_csr(csr, issuer="gov", profile="personal", not_before=gov.not_valid_before,
                                      not_after=gov.not_valid_before + timedelta(days=1))
    assert inside.certificate.not_valid_before == gov.not_valid_before
    with pytest.raises(RequestRejected) as caught:
        authority.issue_from_csr(csr, issuer="gov", profile="personal",
                                 not_before=gov.not_valid_before - timedelta(seconds=1),
                                 not_after=gov.not_valid_before + timedelta(days=1))
    assert caught.value.english == "validity falls outside the validity of CA gov"
    with pytest.raises(RequestRejected) as caught:
        authority.issue_from_csr(csr, issuer="gov", profile="personal", not_before=NOW, not_after=NOW)
    assert caught.value.english == "notAfter must be later than notBefore"


def test_default_validity_never_outlives_the_issuer(authority):
    gov = authority.issuer("gov").certificate
    late = gov.not_valid_after - timedelta(days=10)
    issued = authority.issue_from_csr(build_csr(PERSON, InMemoryKey.generate_ec()), issuer="gov", profile="personal",
                                      not_before=late)
    assert issued.certificate.not_valid_after == gov.not_valid_after


def test_renewal_extends_by_at_most_three_years(authority, clock):
    key = InMemoryKey.generate_ec()
    first = authority.issue_from_csr(build_csr(PERSON, key), issuer="gov", profile="personal", validity_days=730)
    clock.now = NOW + timedelta(days=700)
    renewed = authority.renew(first.serial_number)
    assert renewed.serial_number != first.serial_number
    assert renewed.certificate.subject.dump() == first.certificate.subject.dump()
    assert renewed.certificate.public_key.dump() == key.public_key_info().dump()
    assert renewed.certificate.not_valid_before == NOW + timedelta(days=700)
    assert renewed.certificate.not_valid_after == NOW + timedelta(days=730 + 1096)
    with pytest.raises(RequestRejected) as caught:
        authority.renew(first.serial_number, validity_days=30 + 1096 + 1)
    assert caught.value.english == (
        f"a renewal extends the validity by at most 1096 days (to {NOW + timedelta(days=730 + 1096):%Y-%m-%d})"
    )


def test_renewal_with_a_new_key_keeps_the_subject(authority):
    first = authority.issue_from_csr(build_csr(PERSON, InMemoryKey.generate_ec()), issuer="gov", profile="personal",
                                     validity_days=365)
    new_key = InMemoryKey.generate_ec()
    renewed = authority.renew(first.serial_number, csr=build_csr(PERSON, new_key))
    assert renewed.certificate.public_key.dump() == new_key.public_key_info().dump()
    other_subject = [*PERSON[:-1], ("user_id", "CCCD:001190054321")]
    with pytest.raises(RequestRejected) as caught:
        authority.renew(first.serial_number, csr=build_csr(other_subject, new_key))
    assert caught.value.english == "the CSR of a renewal must keep the subject of the certificate"


def test_renewal_refusals(authority, clock):
    issued = authority.issue_from_csr(build_csr(PERSON, InMemoryKey.generate_ec()), issuer="gov", profile="personal",
                                      validity_days=10)
    ocsp_record = next(r for r in authority.store.certificates_of("gov") if r.profile == "ocsp")
    with pytest.raises(RequestRejected) as caught:
        authority.renew(ocsp_record.serial_number)
    assert caught.value.english == "profile ocsp does not allow renewal"
    clock.now = NOW + timedelta(days=10)
    with pytest.raises(RequestRejected) as caught:
        authority.renew(issued.serial_number)
    assert caught.value.english == "the certificate has expired: request a new one"
    clock.now = NOW
    authority.revoke(issued.serial_number, reason=RevocationReason.SUPERSEDED)
    with pytest.raises(RequestRejected) as caught:
        authority.renew(issued.serial_number)
    assert caught.value.english == "a revoked certificate cannot be renewed"
    with pytest.raises(UnknownCertificate):
        authority.renew(0x42)


def test_a_root_is_never_issued_by_another_ca(authority):
    with pytest.raises(RequestRejected) as caught:
        authority.issue(issuer="gov", profile="root-ca", public_key=InMemoryKey.generate_ec().public_key_info(),
                        attributes=[("country_name", "VN"), ("organization_name", "X"), ("common_name", "Fake root")])
    assert caught.value.english == "a root CA certificate is only self-signed"


def test_path_length_zero_forbids_sub_cas(authority):
    with pytest.raises(RequestRejected) as caught:
        authority.issue(issuer="gov", profile="issuing-ca", public_key=InMemoryKey.generate_ec().public_key_info(),
                        attributes=[("country_name", "VN"), ("organization_name", "X"), ("common_name", "Sub CA")])
    assert caught.value.english == "CA gov may not issue CA certificates (pathLenConstraint 0)"
