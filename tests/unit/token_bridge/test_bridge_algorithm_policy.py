"""The bridge's signing algorithm policy, on keys made in memory (no token)."""

from __future__ import annotations

import pytest

from policies.keys import DigestAlgorithm, SignatureScheme
from signer.keys import InMemoryKey
from token_bridge.errors import AlgorithmRefused, InvalidSignRequest
from token_bridge.algorithms import DIGEST_INFO_PREFIXES, SigningAlgorithmPolicy, check_digest_length

POLICY = SigningAlgorithmPolicy()


@pytest.fixture(scope="module")
def rsa_1024():
    return InMemoryKey.generate_rsa(1024).public_key_info()


def test_rsa_2048_sha256_passes():
    # check raises AlgorithmRefused when refused; None means it passed.
    assert POLICY.check(InMemoryKey.generate_rsa(2048).public_key_info(), digest_algorithm=DigestAlgorithm.SHA256,
                 scheme=SignatureScheme.RSA_PKCS1V15) is None


def test_rsa_below_2048_refused(rsa_1024):
    with pytest.raises(AlgorithmRefused) as caught:
        POLICY.check(rsa_1024, digest_algorithm=DigestAlgorithm.SHA256, scheme=SignatureScheme.RSA_PKCS1V15)
    assert str(caught.value) == "RSA key of 1024 bits is too weak: at least 2048 bits required."
    assert caught.value.message_vi == "Khóa RSA 1024 bit quá yếu: cần tối thiểu 2048 bit."
    assert caught.value.code == "algorithm_refused"


def test_sha1_refused_even_with_a_good_key():
    with pytest.raises(AlgorithmRefused, match=r"^Digest sha1 is not allowed"):
        POLICY.check(InMemoryKey.generate_ec().public_key_info(), digest_algorithm=DigestAlgorithm.SHA1,
                     scheme=SignatureScheme.ECDSA)


def test_curve_outside_policy_refused():
    narrow = SigningAlgorithmPolicy(curves=frozenset({"secp384r1"}))
    with pytest.raises(AlgorithmRefused, match=r"^Curve secp256r1 is not allowed"):
        narrow.check(InMemoryKey.generate_ec().public_key_info(), digest_algorithm=DigestAlgorithm.SHA256,
                     scheme=SignatureScheme.ECDSA)


def test_digest_info_prefixes_match_asn1crypto():
    from asn1crypto import algos, core

    for algorithm, prefix in DIGEST_INFO_PREFIXES.items():
        digest = b"\x00" * algorithm.digest_size
        info = algos.DigestInfo({"digest_algorithm": {"algorithm": algorithm.value, "parameters": core.Null()},
                                 "digest": digest})
        assert info.dump() == prefix + digest


def test_digest_length_checked():
    with pytest.raises(InvalidSignRequest, match=r"^The digest is 31 bytes; sha256 digests are 32 bytes\.$"):
        check_digest_length(b"\x00" * 31, DigestAlgorithm.SHA256)


def test_default_policy_comes_from_the_signing_policy_data():
    from policies.algorithms import AlgorithmRules
    from token_bridge.algorithms import default_policy

    assert default_policy() == SigningAlgorithmPolicy()  # signing.toml: SHA-256+, RSA >= 2048, EC >= 256
    strict = SigningAlgorithmPolicy.from_rules(
        AlgorithmRules.from_mapping({"digests": ["sha384", "sha512"], "min_rsa_bits": 3072, "min_ec_bits": 384},
                                    section="algorithms"))
    assert strict.digests == frozenset({DigestAlgorithm.SHA384, DigestAlgorithm.SHA512})
    assert strict.curves == frozenset({"secp384r1", "secp521r1"}) and strict.min_rsa_bits == 3072
