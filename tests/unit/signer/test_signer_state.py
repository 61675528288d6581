"""Unit tests of the prepare/complete state and the CMS helpers (no token, no network)."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID

from policies.keys import DigestAlgorithm, SignatureScheme
from signer import InMemoryUsedStates, SigningEnvironment, SigningState
from signer.cms import KeySigner, signature_mechanism, verify_signature_value
from signer.errors import KeyMismatch, SignatureValueMismatch, StateInvalid
from signer.keys import InMemoryKey
from signer.request import IssuedNumber, PadesLevel, SignatureKind


def _self_signed(key: InMemoryKey) -> asn1_x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Thử nghiệm")])
    now = dt.datetime.now(dt.timezone.utc)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                   .public_key(key.private_key.public_key()).serial_number(7)
                   .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=1))
                   .sign(key.private_key, hashes.SHA256()))
    return asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER))


@pytest.fixture(scope="module")
def ec_key():
    return InMemoryKey.generate_ec()


def _state(certificate) -> SigningState:
    return SigningState(
        state_id="abc", kind=SignatureKind.ISSUE, level=PadesLevel.B_T, digest_algorithm=DigestAlgorithm.SHA256,
        scheme=SignatureScheme.ECDSA, certificate=certificate.dump(), chain=(), document=b"%PDF-1.7 " + bytes(100),
        reserved_start=10, reserved_end=50, document_digest=bytes(32), signed_attributes=b"\x31\x00",
        signing_time=dt.datetime(2026, 11, 29, 9, 37, 36, tzinfo=dt.timezone(dt.timedelta(hours=7))),
        field_name="KySo_issue_1", number=IssuedNumber(1, "QĐ-UBND", dt.date(2026, 11, 29)),
    )


def test_state_round_trips_through_json(ec_key):
    state = _state(_self_signed(ec_key))
    assert SigningState.from_json(state.to_json()) == state
    assert state.digest_to_sign == hashlib.sha256(b"\x31\x00").digest()
    assert "document" not in repr(state) and "KySo_issue_1" in repr(state)


@pytest.mark.parametrize("text, reason", [
    ("not json", "Expecting value: line 1 column 1 (char 0)"),
    ('{"version": 2}', "unsupported state version 2"),
])
def test_malformed_states_are_invalid(text, reason):
    with pytest.raises(StateInvalid) as caught:
        SigningState.from_json(text)
    assert str(caught.value) == f"trạng thái ký không hợp lệ / invalid signing state: {reason}"


def test_used_states_are_claimed_once():
    used = InMemoryUsedStates()
    assert used.claim("a") is True
    assert used.claim("a") is False
    assert used.claim("b") is True


def test_signature_value_is_checked_against_the_certificate_key(ec_key):
    certificate = _self_signed(ec_key)
    data = b"\x31\x03\x02\x01\x05"
    digest = hashlib.sha256(data).digest()
    value = ec_key.sign_digest(digest, digest_algorithm=DigestAlgorithm.SHA256, scheme=SignatureScheme.ECDSA)
    verify_signature_value(certificate, data, value, digest=DigestAlgorithm.SHA256, scheme=SignatureScheme.ECDSA)
    with pytest.raises(SignatureValueMismatch):
        verify_signature_value(certificate, data + b"x", value, digest=DigestAlgorithm.SHA256,
                               scheme=SignatureScheme.ECDSA)


def test_pss_mechanism_uses_digest_length_salt():
    mechanism = signature_mechanism(SignatureScheme.RSA_PSS, DigestAlgorithm.SHA384)
    assert mechanism["algorithm"].native == "rsassa_pss"
    assert mechanism["parameters"]["salt_length"].native == 48
    assert mechanism["parameters"]["hash_algorithm"]["algorithm"].native == "sha384"


def test_key_signer_refuses_a_foreign_key_and_a_wrong_scheme(ec_key):
    certificate = _self_signed(ec_key)
    with pytest.raises(KeyMismatch) as caught:
        KeySigner(InMemoryKey.generate_ec(), certificate)
    assert str(caught.value) == "khóa không khớp với chứng thư số / the key does not belong to the certificate"
    with pytest.raises(KeyMismatch) as caught:
        KeySigner(ec_key, certificate, scheme=SignatureScheme.RSA_PSS)
    assert str(caught.value) == (
        "lược đồ rsassa_pss không dùng được với khóa ec / scheme rsassa_pss does not fit a ec key"
    )


def test_environment_rejects_unknown_revocation_mode():
    with pytest.raises(ValueError) as caught:
        SigningEnvironment(trust_roots=[], revocation_mode="sometimes")
    assert str(caught.value) == "revocation_mode must be soft-fail, hard-fail or off, not 'sometimes'"


def test_validity_period_is_checked_one_second_either_side(ec_key):
    from signer.eligibility import check_validity_period
    from signer.errors import CertificateExpired, CertificateNotYetValid

    certificate = _self_signed(ec_key)
    validity = certificate["tbs_certificate"]["validity"]
    not_before, not_after = validity["not_before"].native, validity["not_after"].native
    second = dt.timedelta(seconds=1)
    check_validity_period(certificate, not_before)
    check_validity_period(certificate, not_after)
    with pytest.raises(CertificateExpired):
        check_validity_period(certificate, not_after + second)
    with pytest.raises(CertificateNotYetValid) as caught:
        check_validity_period(certificate, not_before - second)
    assert str(caught.value) == (
        f"chứng thư số chưa có hiệu lực trước {not_before.isoformat()} / "
        f"the certificate is not valid before {not_before.isoformat()}"
    )


def test_certificate_checks_are_reused_only_within_the_window():
    environment = SigningEnvironment(trust_roots=[], check_cache_seconds=300)
    moment = dt.datetime(2026, 11, 29, 2, 0, tzinfo=dt.timezone.utc)
    assert not environment.recently_checked(b"fp", moment)
    environment.remember_checked(b"fp", moment)
    assert environment.recently_checked(b"fp", moment + dt.timedelta(seconds=299))
    assert not environment.recently_checked(b"fp", moment + dt.timedelta(seconds=300))
    assert not environment.recently_checked(b"fp", moment - dt.timedelta(seconds=1))  # clock went back
    assert not SigningEnvironment(trust_roots=[], check_cache_seconds=0).recently_checked(b"fp", moment)
