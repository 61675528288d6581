"""The algorithms the bridge signs with: the signing policy's limits and the digest checks.

Issue 3: refuse algorithms the policy forbids (SHA-1, RSA below 2048 bits) with a clear reason, before the
token is touched. The limits come from the signing policy data of `policies` (policies/data/signing.toml),
so the bridge, the signer and the service refuse the same things.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from asn1crypto import keys as asn1_keys

from policies.keys import DigestAlgorithm, SignatureScheme
from token_bridge.errors import AlgorithmRefused, InvalidSignRequest

# RFC 8017 section 9.2, note 1: DER of DigestInfo up to the digest octets.
DIGEST_INFO_PREFIXES = {
    DigestAlgorithm.SHA256: bytes.fromhex("3031300d060960864801650304020105000420"),
    DigestAlgorithm.SHA384: bytes.fromhex("3041300d060960864801650304020205000430"),
    DigestAlgorithm.SHA512: bytes.fromhex("3051300d060960864801650304020305000440"),
    DigestAlgorithm.SHA1: bytes.fromhex("3021300906052b0e03021a05000414"),
}

CURVES = ("secp256r1", "secp384r1", "secp521r1")
_CURVE_BITS = {"secp256r1": 256, "secp384r1": 384, "secp521r1": 521}


@dataclass(frozen=True)
class SigningAlgorithmPolicy:
    """DOMAIN.md, algorithms for new signatures: RSA >= 2048 or ECDSA >= P-256, SHA-256 or stronger.

    `from_rules` takes the numbers from the signing policy of `policies` (policies/data/signing.toml), so
    the bridge, the signer and the service refuse the same things; `default_policy()` is that policy.
    """

    min_rsa_bits: int = 2048
    digests: frozenset[DigestAlgorithm] = frozenset(
        {DigestAlgorithm.SHA256, DigestAlgorithm.SHA384, DigestAlgorithm.SHA512}
    )
    curves: frozenset[str] = frozenset(CURVES)

    @classmethod
    def from_rules(cls, rules) -> "SigningAlgorithmPolicy":
        """From a `policies.algorithms.AlgorithmRules` (digest names, minimum RSA and EC sizes)."""
        digests = frozenset(d for d in DigestAlgorithm if d.value in rules.digests)
        curves = frozenset(c for c, bits in _CURVE_BITS.items() if bits >= rules.min_ec_bits)
        return cls(min_rsa_bits=rules.min_rsa_bits, digests=digests, curves=curves)

    def check(
        self,
        public_key: asn1_keys.PublicKeyInfo,
        *,
        digest_algorithm: DigestAlgorithm,
        scheme: SignatureScheme,
    ) -> None:
        """Raise `AlgorithmRefused` with the reason when the policy forbids this signature."""
        if digest_algorithm not in self.digests:
            raise AlgorithmRefused(
                f"Digest {digest_algorithm.value} is not allowed for new signatures "
                "(SHA-256, SHA-384 or SHA-512 required).",
                f"Không được dùng hàm băm {digest_algorithm.value} cho chữ ký mới "
                "(phải dùng SHA-256, SHA-384 hoặc SHA-512).",
            )
        algorithm = public_key.algorithm
        if algorithm == "rsa":
            if scheme not in (SignatureScheme.RSA_PKCS1V15, SignatureScheme.RSA_PSS):
                raise AlgorithmRefused(
                    f"Scheme {scheme.value} does not fit an RSA key.",
                    f"Lược đồ {scheme.value} không dùng được với khóa RSA.",
                )
            bits = public_key.bit_size
            if bits < self.min_rsa_bits:
                raise AlgorithmRefused(
                    f"RSA key of {bits} bits is too weak: at least {self.min_rsa_bits} bits required.",
                    f"Khóa RSA {bits} bit quá yếu: cần tối thiểu {self.min_rsa_bits} bit.",
                )
        elif algorithm == "ec":
            if scheme is not SignatureScheme.ECDSA:
                raise AlgorithmRefused(
                    f"Scheme {scheme.value} does not fit an EC key.",
                    f"Lược đồ {scheme.value} không dùng được với khóa EC.",
                )
            curve = public_key.curve[1]
            if curve not in self.curves:
                raise AlgorithmRefused(
                    f"Curve {curve} is not allowed (P-256, P-384 or P-521 required).",
                    f"Không được dùng đường cong {curve} (phải là P-256, P-384 hoặc P-521).",
                )
        else:
            raise AlgorithmRefused(
                f"Key algorithm {algorithm} is not allowed for signatures.",
                f"Không được ký bằng khóa thuật toán {algorithm}.",
            )


@functools.cache
def default_policy() -> SigningAlgorithmPolicy:
    """The algorithm rules of the default signing policy (policies/data/signing.toml), read once."""
    from policies.signing import SigningPolicy

    return SigningAlgorithmPolicy.from_rules(SigningPolicy.default().algorithms)


def check_digest_length(digest: bytes, digest_algorithm: DigestAlgorithm) -> None:
    if len(digest) != digest_algorithm.digest_size:
        raise InvalidSignRequest(
            f"The digest is {len(digest)} bytes; {digest_algorithm.value} digests are "
            f"{digest_algorithm.digest_size} bytes.",
            f"Giá trị băm dài {len(digest)} byte; giá trị băm {digest_algorithm.value} phải dài "
            f"{digest_algorithm.digest_size} byte.",
        )
