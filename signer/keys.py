"""Key sources for signing. `signer` depends only on the protocol (`policies.keys.DigestSigner`).

`InMemoryKey` is for tests and benchmarks: a real key pair held by `cryptography` in this process. Keys of
officials live on PKCS#11 tokens (`token_bridge`), behind a bridge over HTTP, or at a CSC service; only
`kyso/` and `service/` compose those with the signer.
"""

from __future__ import annotations

from asn1crypto import keys as asn1_keys
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils

from policies.keys import DigestAlgorithm, DigestSigner, SignatureScheme

__all__ = ["DigestAlgorithm", "DigestSigner", "InMemoryKey", "SignatureScheme"]

_HASHES = {
    DigestAlgorithm.SHA1: hashes.SHA1,
    DigestAlgorithm.SHA256: hashes.SHA256,
    DigestAlgorithm.SHA384: hashes.SHA384,
    DigestAlgorithm.SHA512: hashes.SHA512,
}


class InMemoryKey:
    """A software key implementing `DigestSigner`. Never use it for a real official's key."""

    def __init__(self, private_key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        self._private_key = private_key

    @classmethod
    def generate_rsa(cls, bits: int = 2048) -> "InMemoryKey":
        return cls(rsa.generate_private_key(public_exponent=65537, key_size=bits))

    @classmethod
    def generate_ec(cls, curve: str = "secp256r1") -> "InMemoryKey":
        curves = {"secp256r1": ec.SECP256R1(), "secp384r1": ec.SECP384R1(), "secp521r1": ec.SECP521R1()}
        return cls(ec.generate_private_key(curves[curve]))

    @property
    def private_key(self) -> rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey:
        """The cryptography key object, for baselines (stock pyHanko) in benchmarks and tests."""
        return self._private_key

    def public_key_info(self) -> asn1_keys.PublicKeyInfo:
        der = self._private_key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return asn1_keys.PublicKeyInfo.load(der)

    def sign_digest(
        self, digest: bytes, *, digest_algorithm: DigestAlgorithm, scheme: SignatureScheme
    ) -> bytes:
        hash_algorithm = _HASHES[digest_algorithm]()
        if len(digest) != hash_algorithm.digest_size:
            raise ValueError(
                f"digest is {len(digest)} bytes, {digest_algorithm.value} needs {hash_algorithm.digest_size}"
            )
        prehashed = utils.Prehashed(hash_algorithm)
        key = self._private_key
        if isinstance(key, rsa.RSAPrivateKey):
            if scheme is SignatureScheme.RSA_PKCS1V15:
                return key.sign(digest, padding.PKCS1v15(), prehashed)
            if scheme is SignatureScheme.RSA_PSS:
                pss = padding.PSS(mgf=padding.MGF1(hash_algorithm), salt_length=hash_algorithm.digest_size)
                return key.sign(digest, pss, prehashed)
        elif isinstance(key, ec.EllipticCurvePrivateKey) and scheme is SignatureScheme.ECDSA:
            return key.sign(digest, ec.ECDSA(prehashed))
        raise ValueError(f"scheme {scheme.value} does not fit a {type(key).__name__}")

    def __repr__(self) -> str:  # never print key material
        return f"InMemoryKey({type(self._private_key).__name__})"
