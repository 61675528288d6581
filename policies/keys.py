"""The key protocol shared by every part that needs a signature: anything that can sign a digest.

DESIGN.md: `signer` and `ca` take any object that can sign a digest. The protocol lives here, in the
pure bottom layer, so that `ca` and `signer` (which never import each other) and `token_bridge` (which
implements it over PKCS#11) all speak the same words. A PKCS#11 key, a remote bridge, a CSC service or an
in-memory test key all fit it.
"""

from __future__ import annotations

import enum
from typing import Protocol, runtime_checkable

from asn1crypto import keys as asn1_keys


class DigestAlgorithm(enum.Enum):
    """Digest algorithms by their asn1crypto names. SHA-1 exists for verifying legacy chains only."""

    SHA1 = "sha1"
    SHA256 = "sha256"
    SHA384 = "sha384"
    SHA512 = "sha512"

    @property
    def digest_size(self) -> int:
        return {"sha1": 20, "sha256": 32, "sha384": 48, "sha512": 64}[self.value]


class SignatureScheme(enum.Enum):
    """How the digest becomes a signature value. ECDSA values are DER-encoded (r, s)."""

    RSA_PKCS1V15 = "rsassa_pkcs1v15"
    RSA_PSS = "rsassa_pss"
    ECDSA = "ecdsa"


@runtime_checkable
class DigestSigner(Protocol):
    """A private key that never leaves its home, seen only through its public half and one operation."""

    def public_key_info(self) -> asn1_keys.PublicKeyInfo:
        """The public key of the signing key pair."""
        ...

    def sign_digest(
        self, digest: bytes, *, digest_algorithm: DigestAlgorithm, scheme: SignatureScheme
    ) -> bytes:
        """Sign a precomputed digest. RSA-PSS uses MGF1 with the same digest and salt = digest length."""
        ...
