"""Signing to-be-signed structures with a CA key seen only as a `DigestSigner`.

The key never leaves its token: we hash here and hand the digest over. The algorithm follows the key:
RSA keys sign with PKCS#1 v1.5 (what real tokens and VGCA do), EC keys with ECDSA; SHA-256, or SHA-384 /
SHA-512 for P-384 / P-521 (the hash strength matches the curve, RFC 5480 section 4).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from asn1crypto import algos
from asn1crypto import keys as asn1_keys

from ca.errors import SigningFailed
from policies.keys import DigestAlgorithm, DigestSigner, SignatureScheme

_EC_DIGESTS = {
    "secp256r1": DigestAlgorithm.SHA256,
    "secp384r1": DigestAlgorithm.SHA384,
    "secp521r1": DigestAlgorithm.SHA512,
}


@dataclass(frozen=True)
class SignatureParameters:
    digest_algorithm: DigestAlgorithm
    scheme: SignatureScheme

    @property
    def algorithm_identifier(self) -> algos.SignedDigestAlgorithm:
        if self.scheme is SignatureScheme.RSA_PKCS1V15:
            name = f"{self.digest_algorithm.value}_rsa"
        else:
            name = f"{self.digest_algorithm.value}_ecdsa"
        return algos.SignedDigestAlgorithm({"algorithm": name})

    @property
    def cms_signature_algorithm(self) -> algos.SignedDigestAlgorithm:
        """The CMS SignerInfo signatureAlgorithm (RFC 5754: rsaEncryption or ecdsa-with-SHAx)."""
        if self.scheme is SignatureScheme.RSA_PKCS1V15:
            return algos.SignedDigestAlgorithm({"algorithm": "rsassa_pkcs1v15"})
        return self.algorithm_identifier


def signature_parameters(public_key: asn1_keys.PublicKeyInfo) -> SignatureParameters:
    """How a key of this kind signs our certificates, CRLs, OCSP responses and time-stamp tokens."""
    if public_key.algorithm == "rsa":
        return SignatureParameters(DigestAlgorithm.SHA256, SignatureScheme.RSA_PKCS1V15)
    if public_key.algorithm == "ec":
        curve = public_key.curve[1]
        if curve in _EC_DIGESTS:
            return SignatureParameters(_EC_DIGESTS[curve], SignatureScheme.ECDSA)
    raise SigningFailed(
        f"khóa CA kiểu {public_key.algorithm} không được hỗ trợ",
        f"CA key of type {public_key.algorithm} is not supported",
    )


def sign_bytes(key: DigestSigner, data: bytes, parameters: SignatureParameters) -> bytes:
    """Hash `data` and have `key` sign the digest; key failures become `SigningFailed`."""
    digest = hashlib.new(parameters.digest_algorithm.value, data).digest()
    try:
        return key.sign_digest(digest, digest_algorithm=parameters.digest_algorithm, scheme=parameters.scheme)
    except SigningFailed:
        raise
    except Exception as exc:  # the key may be a token, a bridge or a remote service: translate all
        raise SigningFailed(
            f"khóa CA không ký được: {exc}", f"the CA key failed to sign: {exc}"
        ) from exc
