import hashlib

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, utils

from signer.keys import DigestAlgorithm, DigestSigner, InMemoryKey, SignatureScheme


def _public(key):
    return serialization.load_der_public_key(key.public_key_info().dump())


def test_rsa_pkcs1_and_pss_verify_with_cryptography():
    key = InMemoryKey.generate_rsa(2048)
    assert isinstance(key, DigestSigner)
    digest = hashlib.sha256(b"van ban").digest()
    sig = key.sign_digest(digest, digest_algorithm=DigestAlgorithm.SHA256, scheme=SignatureScheme.RSA_PKCS1V15)
    _public(key).verify(sig, digest, padding.PKCS1v15(), utils.Prehashed(hashes.SHA256()))
    pss = key.sign_digest(digest, digest_algorithm=DigestAlgorithm.SHA256, scheme=SignatureScheme.RSA_PSS)
    _public(key).verify(pss, digest, padding.PSS(padding.MGF1(hashes.SHA256()), 32), utils.Prehashed(hashes.SHA256()))


def test_ecdsa_verifies_and_wrong_digest_length_is_refused():
    key = InMemoryKey.generate_ec()
    digest = hashlib.sha384(b"x").digest()
    sig = key.sign_digest(digest, digest_algorithm=DigestAlgorithm.SHA384, scheme=SignatureScheme.ECDSA)
    _public(key).verify(sig, digest, ec.ECDSA(utils.Prehashed(hashes.SHA384())))
    with pytest.raises(ValueError, match="digest is 48 bytes, sha256 needs 32"):
        key.sign_digest(digest, digest_algorithm=DigestAlgorithm.SHA256, scheme=SignatureScheme.ECDSA)
    with pytest.raises(ValueError, match="does not fit"):
        key.sign_digest(digest, digest_algorithm=DigestAlgorithm.SHA384, scheme=SignatureScheme.RSA_PSS)
