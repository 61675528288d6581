"""Signed chain heads: the service's seal key signs (seq, hash) of the chain head on every append, in the same
transaction, and the signed heads are stored beside the chain (`ledger_signed_heads`).

Someone who can write the database but not use the seal key can no longer truncate the chain, move its head
back or rewrite it whole unseen: a signed head names a record that must still be there with that hash, and
records beyond the latest signed head were not appended by the service (issue 9, item 10). What signed heads
cannot show is the database restored as a whole to an earlier state (chain and signed heads together): for
that, publish a signed head elsewhere (`verify_chain(anchors=...)`).

The key is any `DigestSigner` (policies/keys.py): a PKCS#11 key on the service's seal token, the demo's seal,
or an in-memory key in tests; the private key never leaves it. Verification takes the public key only.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from asn1crypto import keys as asn1_keys

from policies.keys import DigestAlgorithm, DigestSigner, SignatureScheme

_DOMAIN = b"kyso-ledger-head:v1"


def head_message_digest(seq: int, head_hash: str) -> bytes:
    """SHA-256 of what is signed: a fixed domain label, the sequence number and the head hash."""
    return hashlib.sha256(b"%s:%d:%s" % (_DOMAIN, seq, head_hash.encode("ascii"))).digest()


def key_fingerprint(public_key: asn1_keys.PublicKeyInfo) -> str:
    return hashlib.sha256(public_key.dump()).hexdigest()


@dataclass(frozen=True)
class SignedHead:
    seq: int
    hash: str
    signed_at: datetime
    key_sha256: str
    scheme: str
    signature: bytes


@dataclass(frozen=True)
class HeadSeal:
    """Signs chain heads with `key` (RSA PKCS#1 v1.5 or ECDSA, SHA-256)."""

    key: DigestSigner

    @property
    def public_key(self) -> asn1_keys.PublicKeyInfo:
        return self.key.public_key_info()

    def sign(self, seq: int, head_hash: str, *, now: datetime) -> SignedHead:
        public_key = self.public_key
        scheme = SignatureScheme.ECDSA if public_key.algorithm == "ec" else SignatureScheme.RSA_PKCS1V15
        signature = self.key.sign_digest(head_message_digest(seq, head_hash), digest_algorithm=DigestAlgorithm.SHA256,
                                         scheme=scheme)
        return SignedHead(seq=seq, hash=head_hash, signed_at=now, key_sha256=key_fingerprint(public_key),
                          scheme=scheme.value, signature=signature)


def is_head_signature_valid(head: SignedHead, public_keys: dict[str, asn1_keys.PublicKeyInfo]) -> bool:
    """Does the signature of `head` verify with the trusted key it names?"""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, padding, utils

    public_key_info = public_keys.get(head.key_sha256)
    if public_key_info is None:
        return False
    public_key = serialization.load_der_public_key(public_key_info.dump())
    digest = head_message_digest(head.seq, head.hash)
    prehashed = utils.Prehashed(hashes.SHA256())
    try:
        if head.scheme == SignatureScheme.ECDSA.value and isinstance(public_key, ec.EllipticCurvePublicKey):
            public_key.verify(head.signature, digest, ec.ECDSA(prehashed))
        elif head.scheme == SignatureScheme.RSA_PKCS1V15.value and not isinstance(public_key, ec.EllipticCurvePublicKey):
            public_key.verify(head.signature, digest, padding.PKCS1v15(), prehashed)
        else:
            return False
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True
