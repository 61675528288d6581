"""`token_bridge.keys.delete_objects` on a real SoftHSM token, judged by our listing and by pkcs11-tool."""

from __future__ import annotations

import hashlib

import pytest

from policies.keys import DigestAlgorithm, SignatureScheme
from tests.support.pkcs11_tool import pkcs11_tool_objects
from tests.support.softhsm import name_from, self_signed_certificate
from token_bridge.errors import KeyNotFound, TokenBridgeError
from token_bridge.keys import ObjectKind, TokenObject, delete_objects, list_objects

pytestmark = pytest.mark.integration

LABEL = "bridge-deletion"
DIGEST = hashlib.sha256(b"Giay moi hop").digest()


def _listing(session) -> list[tuple[str, str, str]]:
    return sorted((o.kind.value, o.label, o.key_id.hex()) for o in list_objects(session))


@pytest.fixture(scope="module")
def token(softhsm):
    token = softhsm.create_token("test-bridge-deletion")
    yield token
    # Every test of the run shares one SoftHSM (the token bridge lists all its certificates): leave nothing.
    for obj in list_objects(token.session):
        delete_objects(token.session, key_id=obj.key_id, label=obj.label)
    assert list_objects(token.session) == []


def _key_pair_with_certificate(token, *, label: str, key_id: bytes, kind: str = "ec"):
    key = token.generate_rsa(label, key_id) if kind == "rsa" else token.generate_ec(label, key_id)
    certificate = self_signed_certificate(key, name_from([("country_name", "VN"), ("common_name", label)]))
    token.write_certificate(certificate, label=label, key_id=key_id)
    return key, certificate


def test_deletes_the_key_pair_and_certificate_of_one_id_and_label_only(softhsm, token):
    key, certificate = _key_pair_with_certificate(token, label=LABEL, key_id=b"\xd1\x01", kind="rsa")
    # Decoys: the same label under another id, and the same id under another label, must stay.
    token.generate_ec(LABEL, b"\xd1\x02")
    other, _ = _key_pair_with_certificate(token, label="bridge-deletion-other", key_id=b"\xd1\x01\x00")
    decoy_certificate = self_signed_certificate(other, name_from([("common_name", "decoy")]))
    token.write_certificate(decoy_certificate, label="bridge-deletion-decoy", key_id=b"\xd1\x01")
    key.sign_digest(DIGEST, digest_algorithm=DigestAlgorithm.SHA256, scheme=SignatureScheme.RSA_PKCS1V15)
    before = _listing(token.session)
    judged_before = pkcs11_tool_objects(softhsm.directory.environment(), token.label, token.user_pin)

    deleted = delete_objects(token.session, key_id=b"\xd1\x01", label=LABEL)

    assert [(o.kind, o.label, o.key_id) for o in deleted] == [
        (ObjectKind.CERTIFICATE, LABEL, b"\xd1\x01"),
        (ObjectKind.PUBLIC_KEY, LABEL, b"\xd1\x01"),
        (ObjectKind.PRIVATE_KEY, LABEL, b"\xd1\x01"),
    ]
    assert deleted[0].certificate == certificate.dump()
    gone = {("certificate", LABEL, "d101"), ("public_key", LABEL, "d101"), ("private_key", LABEL, "d101")}
    assert gone <= set(before)
    assert _listing(token.session) == sorted(set(before) - gone)
    judged_after = pkcs11_tool_objects(softhsm.directory.environment(), token.label, token.user_pin)
    tool_gone = {("Certificate Object", LABEL, "d101"), ("Public Key Object", LABEL, "d101"),
                 ("Private Key Object", LABEL, "d101")}
    assert tool_gone <= set(judged_before)
    assert judged_after == sorted(set(judged_before) - tool_gone)
    assert ("Certificate Object", "bridge-deletion-decoy", "d101") in judged_after
    assert ("Private Key Object", LABEL, "d102") in judged_after
    # The private key handle cached by the signature above is forgotten with the key.
    with pytest.raises(KeyNotFound) as refused:
        key.sign_digest(DIGEST, digest_algorithm=DigestAlgorithm.SHA256, scheme=SignatureScheme.RSA_PKCS1V15)
    assert str(refused.value) == "Token 'test-bridge-deletion' has no private key with id d101."
    assert delete_objects(token.session, key_id=b"\xd1\x01", label=LABEL) == []


def test_deletes_only_the_kinds_asked_for(softhsm, token):
    key, certificate = _key_pair_with_certificate(token, label="bridge-deletion-cert", key_id=b"\xd2")
    deleted = delete_objects(token.session, key_id=b"\xd2", label="bridge-deletion-cert",
                             kinds=frozenset({ObjectKind.CERTIFICATE}))
    assert deleted == [TokenObject(ObjectKind.CERTIFICATE, "bridge-deletion-cert", b"\xd2",
                                   certificate=certificate.dump())]
    judged = pkcs11_tool_objects(softhsm.directory.environment(), token.label, token.user_pin)
    assert [o for o in judged if o[2] == "d2"] == [("Private Key Object", "bridge-deletion-cert", "d2"),
                                                   ("Public Key Object", "bridge-deletion-cert", "d2")]
    # The key pair still signs: only the certificate went.
    assert key.sign_digest(DIGEST, digest_algorithm=DigestAlgorithm.SHA256, scheme=SignatureScheme.ECDSA)


@pytest.mark.parametrize(("key_id", "label"), [(b"", "bridge-deletion"), (b"\xd1\x02", "")])
def test_refuses_to_delete_without_an_id_and_a_label(token, key_id, label):
    before = _listing(token.session)
    with pytest.raises(TokenBridgeError) as refused:
        delete_objects(token.session, key_id=key_id, label=label)
    assert str(refused.value) == "Refusing to delete token objects without both a CKA_ID and a label."
    assert refused.value.message_vi == "Không xóa đối tượng trên thiết bị khi thiếu mã (CKA_ID) hoặc nhãn."
    assert _listing(token.session) == before


def test_refuses_kinds_other_than_keys_and_certificates(token):
    with pytest.raises(TokenBridgeError) as refused:
        delete_objects(token.session, key_id=b"\xd1\x02", label=LABEL, kinds=frozenset({ObjectKind.OTHER}))
    assert str(refused.value) == "Only keys and certificates can be deleted, not ['other']."


def test_an_object_the_token_refuses_to_destroy_is_a_token_error(softhsm):
    """CKA_DESTROYABLE false: SoftHSM answers C_DestroyObject with CKR_ACTION_PROHIBITED."""
    import pkcs11
    from pkcs11 import Attribute, KeyType, MechanismFlag
    from pkcs11.util.ec import encode_named_curve_parameters

    from token_bridge.errors import TokenOperationFailed

    token = softhsm.create_token("test-bridge-undeletable")  # its key pair stays; it has no certificate

    def generate(raw):
        params = raw.create_domain_parameters(
            KeyType.EC, {Attribute.EC_PARAMS: encode_named_curve_parameters("secp256r1")}, local=True)
        params.generate_keypair(id=b"\xd3", label="undeletable", store=True,
                                capabilities=MechanismFlag.SIGN | MechanismFlag.VERIFY,
                                public_template={Attribute.TOKEN: True, Attribute.DESTROYABLE: False},
                                private_template={Attribute.TOKEN: True, Attribute.PRIVATE: True,
                                                  Attribute.SENSITIVE: True, Attribute.EXTRACTABLE: False})

    token.session.run("generating an undeletable key pair", generate)
    with pytest.raises(TokenOperationFailed) as failed:
        delete_objects(token.session, key_id=b"\xd3", label="undeletable")
    assert str(failed.value) == "Token 'test-bridge-undeletable' failed while deleting objects: PKCS#11 error PKCS11Error."
    assert isinstance(failed.value.__cause__, pkcs11.exceptions.PKCS11Error)
    # Deletion stops at the public key (certificates, then public, then private keys): the private key stays.
    judged = pkcs11_tool_objects(softhsm.directory.environment(), token.label, token.user_pin)
    assert judged == [("Private Key Object", "undeletable", "d3"), ("Public Key Object", "undeletable", "d3")]
