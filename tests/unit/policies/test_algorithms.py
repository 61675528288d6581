from datetime import datetime, timedelta, timezone

from policies.algorithms import AlgorithmRules, KeyDescription
from policies.validation import ValidationPolicy
from policies.signing import SigningPolicy

VERIFY = ValidationPolicy.default().algorithms
SIGN = SigningPolicy.default().algorithms


def test_signing_needs_sha256_and_strong_keys():
    assert SIGN.check_signature("sha256", KeyDescription("rsa", 2048)).allowed
    assert SIGN.check_signature("sha384", KeyDescription("ec", 256)).allowed
    weak = SIGN.check_signature("sha256", KeyDescription("rsa", 1024), rule="signing")
    assert (weak.allowed, weak.rule, weak.reason_en) == (
        False, "signing:rsa-size", "RSA key of 1024 bits is below the minimum of 2048")
    assert weak.reason_vi == "khóa RSA 1024 bit nhỏ hơn mức tối thiểu 2048 bit"
    sha1 = SIGN.check_signature("sha1", KeyDescription("rsa", 2048), rule="signing")
    assert (sha1.allowed, sha1.rule) == (False, "signing:digest")
    assert not SIGN.check_signature("sha256", KeyDescription("ec", 224)).allowed


def test_legacy_sha1_ca_chain_warns_until_the_configured_date_then_denies():
    until = VERIFY.legacy_sha1_ca_until
    assert until == datetime(2030, 12, 31, 23, 59, 59, tzinfo=timezone(timedelta(hours=7)))
    at_end = VERIFY.check_ca_signature("sha1", at=until, subject="VGCA G1")
    assert (at_end.outcome.value, at_end.rule) == ("warn", "algorithms:legacy-sha1-ca")
    after = VERIFY.check_ca_signature("sha1", at=until + timedelta(seconds=1), subject="VGCA G1")
    assert (after.allowed, after.reason_en) == (False, "certificate of VGCA G1 is signed with SHA1, which is not allowed")
    assert VERIFY.check_ca_signature("md5", at=until - timedelta(days=1), subject="x").allowed is False
    assert VERIFY.check_ca_signature("sha256", at=until, subject="x").outcome.value == "allow"


def test_rules_from_a_mapping_reject_unknown_keys_and_naive_dates():
    import pytest

    from policies.decision import PolicyError

    with pytest.raises(PolicyError, match="unknown key\\(s\\) min_dsa_bits"):
        AlgorithmRules.from_mapping({"digests": ["sha256"], "min_dsa_bits": 1}, section="algorithms")
    with pytest.raises(PolicyError, match="needs a UTC offset"):
        AlgorithmRules.from_mapping({"digests": ["sha256"], "legacy_sha1_ca_until": "2030-01-01T00:00:00"},
                                    section="algorithms")
    with pytest.raises(PolicyError, match="no digest algorithm allowed"):
        AlgorithmRules.from_mapping({}, section="algorithms")
