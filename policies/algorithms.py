"""Algorithm rules for signing and for verifying (DOMAIN.md, "Certificates").

New signatures: SHA-256 or stronger, RSA >= 2048 or ECDSA >= P-256. Verification refuses weak algorithms in
the signature itself but still accepts legacy SHA-1 CA chains (the first VGCA generation is RSA-2048/SHA-1,
valid to 2030) with a warning, until a configurable date.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from asn1crypto import keys as asn1_keys

from policies.decision import Decision, PolicyError


# RFC 8032 / RFC 8410: the size of the curve's field, as a key size is usually quoted.
_EDWARDS_BITS = {"ed25519": 256, "ed448": 456}
# Key algorithms accepted unless a policy lists its own (`key_algorithms`).
DEFAULT_KEY_ALGORITHMS = frozenset({"rsa", "ec", "rsassa_pss"})


@dataclass(frozen=True)
class KeyDescription:
    algorithm: str  # "rsa", "ec", or another asn1crypto algorithm name
    bits: int

    @classmethod
    def of(cls, public_key: asn1_keys.PublicKeyInfo) -> "KeyDescription":
        algorithm = public_key.algorithm
        if algorithm in _EDWARDS_BITS:
            # asn1crypto's bit_size has no branch for RFC 8410 keys (it fails on an unbound variable).
            return cls(algorithm, _EDWARDS_BITS[algorithm])
        return cls(algorithm, public_key.bit_size)

    def __str__(self) -> str:
        return f"{self.algorithm.upper()}-{self.bits}"


@dataclass(frozen=True)
class AlgorithmRules:
    digests: frozenset[str]
    min_rsa_bits: int
    min_ec_bits: int
    legacy_sha1_ca_until: datetime | None = None  # only meaningful when verifying
    key_algorithms: frozenset[str] = DEFAULT_KEY_ALGORITHMS

    @classmethod
    def from_mapping(cls, data: dict, *, section: str) -> "AlgorithmRules":
        known = {"digests", "signature_digests", "min_rsa_bits", "min_ec_bits", "legacy_sha1_ca_until",
                 "key_algorithms"}
        unknown = set(data) - known
        if unknown:
            raise PolicyError(f"[{section}]: unknown key(s) {', '.join(sorted(unknown))}")
        digests = data.get("digests", data.get("signature_digests"))
        if not digests:
            raise PolicyError(f"[{section}]: no digest algorithm allowed")
        until = data.get("legacy_sha1_ca_until")
        if isinstance(until, str):
            try:
                until = datetime.fromisoformat(until)
            except ValueError as exc:
                raise PolicyError(f"[{section}] legacy_sha1_ca_until: {exc}") from exc
        if until is not None and until.tzinfo is None:
            raise PolicyError(f"[{section}] legacy_sha1_ca_until needs a UTC offset")
        key_algorithms = data.get("key_algorithms")
        if key_algorithms is not None and (isinstance(key_algorithms, str) or not key_algorithms):
            raise PolicyError(f"[{section}] key_algorithms: give a non-empty list, e.g. [\"rsa\", \"ec\"]")
        return cls(frozenset(d.lower() for d in digests), int(data.get("min_rsa_bits", 2048)),
                   int(data.get("min_ec_bits", 256)), until,
                   frozenset(str(k).lower() for k in key_algorithms) if key_algorithms else DEFAULT_KEY_ALGORITHMS)

    def check_key(self, key: KeyDescription, *, rule: str) -> Decision:
        if key.algorithm == "rsa" and key.bits < self.min_rsa_bits:
            return Decision.deny(
                f"{rule}:rsa-size",
                f"RSA key of {key.bits} bits is below the minimum of {self.min_rsa_bits}",
                f"khóa RSA {key.bits} bit nhỏ hơn mức tối thiểu {self.min_rsa_bits} bit",
            )
        if key.algorithm == "ec" and key.bits < self.min_ec_bits:
            return Decision.deny(
                f"{rule}:ec-size",
                f"EC key of {key.bits} bits is below the minimum of {self.min_ec_bits}",
                f"khóa EC {key.bits} bit nhỏ hơn mức tối thiểu {self.min_ec_bits} bit",
            )
        if key.algorithm not in self.key_algorithms:
            allowed = ", ".join(sorted(self.key_algorithms)).upper()
            return Decision.deny(f"{rule}:key-algorithm",
                                 f"key algorithm {key.algorithm.upper()} is not allowed (allowed: {allowed})",
                                 f"thuật toán khóa {key.algorithm.upper()} không được phép (được phép: {allowed})")
        return Decision.allow(f"{rule}:key", f"{key} is allowed", f"{key} được phép")

    def check_digest(self, digest_algorithm: str, *, rule: str) -> Decision:
        name = digest_algorithm.lower()
        if name not in self.digests:
            return Decision.deny(
                f"{rule}:digest",
                f"digest {name.upper()} is not allowed (allowed: {', '.join(sorted(self.digests)).upper()})",
                f"hàm băm {name.upper()} không được phép (được phép: {', '.join(sorted(self.digests)).upper()})",
            )
        return Decision.allow(f"{rule}:digest", f"{name.upper()} is allowed", f"{name.upper()} được phép")

    def check_signature(self, digest_algorithm: str, key: KeyDescription, *, rule: str = "algorithms") -> Decision:
        """A document signature (made now, or being verified): its digest and key."""
        digest = self.check_digest(digest_algorithm, rule=rule)
        if not digest.allowed:
            return digest
        return self.check_key(key, rule=rule)

    def check_ca_signature(self, digest_algorithm: str, *, at: datetime, subject: str) -> Decision:
        """A certificate or CRL signed by a CA in the chain: SHA-1 tolerated with a warning until the
        configured date (DOMAIN.md: legacy VGCA G1 chains), refused after it."""
        name = digest_algorithm.lower()
        if name in self.digests:
            return Decision.allow("algorithms:ca-digest", f"{name.upper()} is allowed", f"{name.upper()} được phép")
        if name == "sha1" and self.legacy_sha1_ca_until is not None and at <= self.legacy_sha1_ca_until:
            until = self.legacy_sha1_ca_until.isoformat()
            return Decision.warn(
                "algorithms:legacy-sha1-ca",
                f"certificate of {subject} is signed with SHA-1 (legacy CA chain, accepted until {until})",
                f"chứng thư số của {subject} được ký bằng SHA-1 (chuỗi CA cũ, chấp nhận đến {until})",
            )
        return Decision.deny(
            "algorithms:ca-digest",
            f"certificate of {subject} is signed with {name.upper()}, which is not allowed",
            f"chứng thư số của {subject} được ký bằng {name.upper()}, không được phép",
        )
