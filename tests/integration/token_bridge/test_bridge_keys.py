"""Signatures made on SoftHSM tokens, judged by cryptography and by `openssl pkeyutl -verify`."""

from __future__ import annotations

import hashlib
import subprocess

import pkcs11
import pytest
from asn1crypto import core as asn1_core
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, utils

from policies.keys import DigestAlgorithm, DigestSigner, SignatureScheme
from token_bridge.errors import AlgorithmRefused, InvalidSignRequest, KeyNotFound
from token_bridge.keys import (
    KeyAlgorithm,
    ObjectKind,
    Pkcs11Key,
    generate_ec_key_pair,
    generate_rsa_key_pair,
    list_objects,
)

pytestmark = pytest.mark.integration

MESSAGE = "Quyết định số 123/QĐ-UBND về việc ký số".encode()
HASHES = {DigestAlgorithm.SHA256: hashes.SHA256, DigestAlgorithm.SHA384: hashes.SHA384, DigestAlgorithm.SHA512: hashes.SHA512}


def _public_key(key: Pkcs11Key):
    return serialization.load_der_public_key(key.public_key_info().dump())


def _openssl_verify(tmp_path, key: Pkcs11Key, digest: bytes, signature: bytes, *options: str) -> subprocess.CompletedProcess:
    (tmp_path / "pub.der").write_bytes(key.public_key_info().dump())
    (tmp_path / "digest.bin").write_bytes(digest)
    (tmp_path / "sig.bin").write_bytes(signature)
    return subprocess.run(
        ["openssl", "pkeyutl", "-verify", "-pubin", "-keyform", "DER", "-inkey", str(tmp_path / "pub.der"),
         "-in", str(tmp_path / "digest.bin"), "-sigfile", str(tmp_path / "sig.bin"), *options],
        capture_output=True, text=True,
    )


def test_pkcs11_key_is_a_digest_signer(personal_rsa_token):
    assert isinstance(personal_rsa_token.key, DigestSigner)
    assert "PIN" not in repr(personal_rsa_token.key) and "123456" not in repr(personal_rsa_token.key.session)


@pytest.mark.parametrize("algorithm", [DigestAlgorithm.SHA256, DigestAlgorithm.SHA384, DigestAlgorithm.SHA512])
def test_rsa_pkcs1v15_signature_verifies_with_cryptography_and_openssl(personal_rsa_token, tmp_path, algorithm):
    key = personal_rsa_token.key
    digest = hashlib.new(algorithm.value, MESSAGE).digest()
    signature = key.sign_digest(digest, digest_algorithm=algorithm, scheme=SignatureScheme.RSA_PKCS1V15)
    assert len(signature) == 256
    _public_key(key).verify(signature, MESSAGE, padding.PKCS1v15(), HASHES[algorithm]())
    result = _openssl_verify(tmp_path, key, digest, signature, "-pkeyopt", f"digest:{algorithm.value}")
    assert result.stdout.strip() == "Signature Verified Successfully", result.stderr
    # the same signature over another digest is rejected by the judge (it can fail)
    other = hashlib.new(algorithm.value, MESSAGE + b".").digest()
    assert _openssl_verify(tmp_path, key, other, signature, "-pkeyopt", f"digest:{algorithm.value}").returncode != 0


def test_rsa_pss_signature_verifies(personal_rsa_token, tmp_path):
    key = personal_rsa_token.key
    digest = hashlib.sha256(MESSAGE).digest()
    signature = key.sign_digest(digest, digest_algorithm=DigestAlgorithm.SHA256, scheme=SignatureScheme.RSA_PSS)
    _public_key(key).verify(
        signature, digest, padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32), utils.Prehashed(hashes.SHA256())
    )
    result = _openssl_verify(
        tmp_path, key, digest, signature, "-pkeyopt", "digest:sha256", "-pkeyopt", "rsa_padding_mode:pss",
        "-pkeyopt", "rsa_pss_saltlen:32",
    )
    assert result.stdout.strip() == "Signature Verified Successfully", result.stderr


def test_ecdsa_p256_signature_is_der_and_verifies(agency_ec_token, tmp_path):
    key = agency_ec_token.key
    digest = hashlib.sha256(MESSAGE).digest()
    signature = key.sign_digest(digest, digest_algorithm=DigestAlgorithm.SHA256, scheme=SignatureScheme.ECDSA)
    assert signature[0] == 0x30  # DER SEQUENCE of r, s
    _public_key(key).verify(signature, MESSAGE, ec.ECDSA(hashes.SHA256()))
    assert _openssl_verify(tmp_path, key, digest, signature).stdout.strip() == "Signature Verified Successfully"


def test_ecdsa_p384_key_generated_on_token_signs(agency_ec_token, tmp_path):
    key = generate_ec_key_pair(agency_ec_token.token.session, label="p384", key_id=b"\x38\x34", curve="secp384r1")
    assert key.public_key_info().curve == ("named", "secp384r1")
    digest = hashlib.sha384(MESSAGE).digest()
    signature = key.sign_digest(digest, digest_algorithm=DigestAlgorithm.SHA384, scheme=SignatureScheme.ECDSA)
    _public_key(key).verify(signature, MESSAGE, ec.ECDSA(hashes.SHA384()))
    assert _openssl_verify(tmp_path, key, digest, signature).stdout.strip() == "Signature Verified Successfully"


def test_sha1_is_refused_before_the_token_is_used(personal_rsa_token):
    with pytest.raises(AlgorithmRefused) as caught:
        personal_rsa_token.key.sign_digest(
            hashlib.sha1(MESSAGE).digest(), digest_algorithm=DigestAlgorithm.SHA1, scheme=SignatureScheme.RSA_PKCS1V15
        )
    assert str(caught.value) == (
        "Digest sha1 is not allowed for new signatures (SHA-256, SHA-384 or SHA-512 required)."
    )
    assert caught.value.message_vi.startswith("Không được dùng hàm băm sha1")


def test_rsa_1024_key_is_refused_at_generation_and_at_signing(softhsm):
    token = softhsm.create_token("test-bridge-weak")
    with pytest.raises(AlgorithmRefused, match=r"^RSA keys below 2048 bits are not allowed \(asked for 1024\)\.$"):
        generate_rsa_key_pair(token.session, label="weak", key_id=b"\x10", bits=1024)
    # a legacy 1024-bit key put on the token by another tool is still refused when signing
    token.session.run(
        "test setup",
        lambda raw: raw.generate_keypair(pkcs11.KeyType.RSA, 1024, id=b"\x11", label="legacy", store=True),
    )
    with pytest.raises(AlgorithmRefused, match=r"^RSA key of 1024 bits is too weak: at least 2048 bits required\.$"):
        token.key(b"\x11").sign_digest(
            hashlib.sha256(MESSAGE).digest(), digest_algorithm=DigestAlgorithm.SHA256, scheme=SignatureScheme.RSA_PKCS1V15
        )


def test_wrong_digest_length_and_scheme_are_refused(personal_rsa_token, agency_ec_token):
    with pytest.raises(InvalidSignRequest, match=r"^The digest is 20 bytes; sha256 digests are 32 bytes\.$"):
        personal_rsa_token.key.sign_digest(b"x" * 20, digest_algorithm=DigestAlgorithm.SHA256, scheme=SignatureScheme.RSA_PKCS1V15)
    with pytest.raises(AlgorithmRefused, match=r"^Scheme ecdsa does not fit an RSA key\.$"):
        personal_rsa_token.key.sign_digest(b"x" * 32, digest_algorithm=DigestAlgorithm.SHA256, scheme=SignatureScheme.ECDSA)
    with pytest.raises(AlgorithmRefused, match=r"^Scheme rsassa_pss does not fit an EC key\.$"):
        agency_ec_token.key.sign_digest(b"x" * 32, digest_algorithm=DigestAlgorithm.SHA256, scheme=SignatureScheme.RSA_PSS)


def test_unknown_key_id_is_key_not_found(personal_rsa_token):
    with pytest.raises(KeyNotFound, match=r"^Token 'test-personal-rsa' has no public key or certificate with id 7777\.$"):
        Pkcs11Key(personal_rsa_token.token.session, b"\x77\x77").public_key_info()


def test_list_objects_shows_key_pair_and_certificate_with_the_same_id_and_label(personal_rsa_token):
    objects = {(o.kind, o.key_id, o.label) for o in list_objects(personal_rsa_token.token.session)}
    for kind in (ObjectKind.PRIVATE_KEY, ObjectKind.PUBLIC_KEY, ObjectKind.CERTIFICATE):
        assert (kind, b"\x01", "Nguyen Thi Thu Ha") in objects
    private = [o for o in list_objects(personal_rsa_token.token.session) if o.kind is ObjectKind.PRIVATE_KEY]
    assert private[0].key_algorithm is KeyAlgorithm.RSA


def test_private_key_is_not_extractable(personal_rsa_token):
    sensitive = personal_rsa_token.token.session.run(
        "test",
        lambda raw: raw.get_key(object_class=pkcs11.ObjectClass.PRIVATE_KEY, id=b"\x01")[pkcs11.Attribute.EXTRACTABLE],
    )
    assert sensitive is False


def test_pkcs11_tool_sees_key_pair_and_certificate_paired_and_the_key_never_extractable(softhsm, personal_rsa_token):
    """OpenSC's pkcs11-tool, an independent reader of the token."""
    listing = subprocess.run(
        ["pkcs11-tool", "--module", softhsm.module.path, "--token-label", "test-personal-rsa", "--login", "--pin",
         personal_rsa_token.token.user_pin, "--list-objects"],
        env=softhsm.directory.environment(), capture_output=True, text=True, timeout=60,
    )
    assert listing.returncode == 0, listing.stderr
    objects: dict[str, list[dict]] = {}
    current = None
    for line in listing.stdout.splitlines():
        if not line.startswith(" "):
            current = line.split(";")[0]
            objects.setdefault(current, []).append({})
        elif ":" in line:
            key, _, value = line.strip().partition(":")
            objects[current][-1][key] = value.strip()
    private = [o for o in objects["Private Key Object"] if o["ID"] == "01"]
    assert private == [{"label": "Nguyen Thi Thu Ha", "ID": "01", "Usage": "sign",
                        "Access": "sensitive, always sensitive, never extractable, local"}]
    certificate = [o for o in objects["Certificate Object"] if o["ID"] == "01"]
    assert certificate[0]["label"] == "Nguyen Thi Thu Ha"
    serial = asn1_core.Integer(personal_rsa_token.certificate.serial_number).contents.hex().upper()
    assert certificate[0]["serial"] == serial
    assert len(objects["Certificate Object"]) == 3  # the personal certificate and its chain (gov, root)


def test_delete_token_removes_it_for_good(softhsm):
    from token_bridge.errors import TokenOperationFailed

    softhsm.create_token("test-bridge-deleted")
    softhsm.directory.delete_token("test-bridge-deleted")
    assert "test-bridge-deleted" not in [t.label for t in softhsm.module.tokens()]
    with pytest.raises(TokenOperationFailed, match=r"^softhsm2-util could not delete token 'test-bridge-deleted': "):
        softhsm.directory.delete_token("test-bridge-deleted")
