"""Keys on PKCS#11 tokens: generate key pairs, write certificates, list and delete objects, and `Pkcs11Key`.

`Pkcs11Key` implements `policies.keys.DigestSigner`: RSA PKCS#1 v1.5 through CKM_RSA_PKCS with the
DigestInfo prefix (RFC 8017 section 9.2), RSA-PSS through CKM_RSA_PKCS_PSS (MGF1 with the same digest, salt =
digest length), ECDSA through raw CKM_ECDSA (SoftHSM has no hashing ECDSA for precomputed digests) with
the (r, s) value returned DER-encoded. A key and its certificate share CKA_ID and CKA_LABEL.

The signing policy (issue 3: refuse SHA-1 and RSA below 2048 bits with a clear reason) is checked before
the token is touched; see `token_bridge.algorithms`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import pkcs11
from asn1crypto import algos as asn1_algos
from asn1crypto import core as asn1_core
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from pkcs11 import Attribute, KeyType, Mechanism, MechanismFlag, ObjectClass
from pkcs11.util.ec import encode_ec_public_key, encode_named_curve_parameters
from pkcs11.util.rsa import encode_rsa_public_key

from policies.keys import DigestAlgorithm, SignatureScheme
from token_bridge.algorithms import (
    CURVES,
    DIGEST_INFO_PREFIXES,
    SigningAlgorithmPolicy,
    check_digest_length,
    default_policy,
)
from token_bridge.errors import AlgorithmRefused, KeyNotFound, TokenBridgeError
from token_bridge.session import TokenSession

_PSS_PARAMS = {
    DigestAlgorithm.SHA256: (Mechanism.SHA256, pkcs11.MGF.SHA256, 32),
    DigestAlgorithm.SHA384: (Mechanism.SHA384, pkcs11.MGF.SHA384, 48),
    DigestAlgorithm.SHA512: (Mechanism.SHA512, pkcs11.MGF.SHA512, 64),
}

class KeyAlgorithm(enum.Enum):
    RSA = "rsa"
    EC = "ec"


class Pkcs11Key:
    """A private key on a token, found by CKA_ID; implements `policies.keys.DigestSigner`."""

    def __init__(
        self,
        session: TokenSession,
        key_id: bytes,
        *,
        policy: SigningAlgorithmPolicy | None = None,
        public_key_info: asn1_keys.PublicKeyInfo | None = None,
    ):
        self.session = session
        self.key_id = bytes(key_id)
        self.policy = policy or default_policy()
        # Known from the certificate already (the bridge's catalogue): no token read needed.
        self._public_key_info = public_key_info

    def __repr__(self) -> str:
        return f"Pkcs11Key(token={self.session.label!r}, id={self.key_id.hex()})"

    @property
    def token_label(self) -> str:
        return self.session.label

    def public_key_info(self) -> asn1_keys.PublicKeyInfo:
        """From the public key object with the same CKA_ID, else from the certificate with it."""
        if self._public_key_info is None:
            self._public_key_info = self.session.run("reading a public key", self._read_public_key)
        return self._public_key_info

    def _read_public_key(self, raw) -> asn1_keys.PublicKeyInfo:
        try:
            public = raw.get_key(object_class=ObjectClass.PUBLIC_KEY, id=self.key_id)
        except pkcs11.exceptions.NoSuchKey:
            public = None
        if public is not None:
            return public_key_info_of(public)
        for cert in raw.get_objects({Attribute.CLASS: ObjectClass.CERTIFICATE, Attribute.ID: self.key_id}):
            return asn1_x509.Certificate.load(bytes(cert[Attribute.VALUE])).public_key
        self.session.require_present()
        raise KeyNotFound(
            f"Token '{self.session.label}' has no public key or certificate with id {self.key_id.hex()}.",
            f"Thiết bị '{self.session.label}' không có khóa công khai hoặc chứng thư số mã "
            f"{self.key_id.hex()}.",
        )

    def _private_key(self):
        def find(raw):
            try:
                return raw.get_key(object_class=ObjectClass.PRIVATE_KEY, id=self.key_id)
            except pkcs11.exceptions.NoSuchKey as exc:
                self.session.require_present()
                raise KeyNotFound(
                    f"Token '{self.session.label}' has no private key with id {self.key_id.hex()}.",
                    f"Thiết bị '{self.session.label}' không có khóa bí mật mã {self.key_id.hex()}.",
                ) from exc

        return self.session.cached(("private", self.key_id), find, doing="finding the private key")

    def sign_digest(
        self, digest: bytes, *, digest_algorithm: DigestAlgorithm, scheme: SignatureScheme
    ) -> bytes:
        """Sign a precomputed digest on the token; the policy and the digest length are checked first."""
        check_digest_length(digest, digest_algorithm)
        self.policy.check(self.public_key_info(), digest_algorithm=digest_algorithm, scheme=scheme)
        if scheme is SignatureScheme.RSA_PKCS1V15:
            data, mechanism, param = DIGEST_INFO_PREFIXES[digest_algorithm] + digest, Mechanism.RSA_PKCS, None
        elif scheme is SignatureScheme.RSA_PSS:
            data, mechanism, param = digest, Mechanism.RSA_PKCS_PSS, _PSS_PARAMS[digest_algorithm]
        else:
            data, mechanism, param = digest, Mechanism.ECDSA, None

        def sign(raw):
            key = self._private_key()
            return key.sign(data, mechanism=mechanism, mechanism_param=param)

        signature = self.session.run("signing a digest", sign)
        if scheme is SignatureScheme.ECDSA:
            return asn1_algos.DSASignature.from_p1363(signature).dump()  # raw r || s to DER
        return signature


def public_key_info_of(public_key) -> asn1_keys.PublicKeyInfo:
    """SubjectPublicKeyInfo of a python-pkcs11 public key object."""
    if public_key.key_type == KeyType.RSA:
        rsa = asn1_keys.RSAPublicKey.load(encode_rsa_public_key(public_key))
        return asn1_keys.PublicKeyInfo({"algorithm": {"algorithm": "rsa", "parameters": asn1_core.Null()},
                                        "public_key": rsa})
    if public_key.key_type == KeyType.EC:
        return asn1_keys.PublicKeyInfo.load(encode_ec_public_key(public_key))
    raise KeyNotFound(
        f"Unsupported key type {public_key.key_type!r}.", f"Loại khóa không được hỗ trợ {public_key.key_type!r}."
    )


# -- provisioning -------------------------------------------------------------------------------------

_PRIVATE_TEMPLATE = {
    Attribute.TOKEN: True,
    Attribute.PRIVATE: True,
    Attribute.SENSITIVE: True,
    Attribute.EXTRACTABLE: False,  # keys never leave the token
    Attribute.SIGN: True,
}
_PUBLIC_TEMPLATE = {Attribute.TOKEN: True, Attribute.VERIFY: True}


def generate_rsa_key_pair(
    session: TokenSession, *, label: str, key_id: bytes, bits: int = 2048
) -> Pkcs11Key:
    """Generate an RSA key pair on the token (at least 2048 bits), stored with `label` and `key_id`."""
    minimum = default_policy().min_rsa_bits
    if bits < minimum:
        raise AlgorithmRefused(
            f"RSA keys below {minimum} bits are not allowed (asked for {bits}).",
            f"Không được tạo khóa RSA dưới {minimum} bit (yêu cầu {bits}).",
        )

    def generate(raw):
        raw.generate_keypair(
            KeyType.RSA,
            bits,
            id=key_id,
            label=label,
            store=True,
            capabilities=MechanismFlag.SIGN | MechanismFlag.VERIFY,
            public_template={**_PUBLIC_TEMPLATE, Attribute.PUBLIC_EXPONENT: b"\x01\x00\x01"},
            private_template=dict(_PRIVATE_TEMPLATE),
        )

    session.run("generating an RSA key pair", generate)
    return Pkcs11Key(session, key_id)


def generate_ec_key_pair(
    session: TokenSession, *, label: str, key_id: bytes, curve: str = "secp256r1"
) -> Pkcs11Key:
    """Generate an EC key pair (P-256, P-384 or P-521) on the token with `label` and `key_id`."""
    if curve not in CURVES:
        raise AlgorithmRefused(
            f"Curve {curve} is not allowed (secp256r1, secp384r1 or secp521r1).",
            f"Không được dùng đường cong {curve} (secp256r1, secp384r1 hoặc secp521r1).",
        )

    def generate(raw):
        params = raw.create_domain_parameters(
            KeyType.EC, {Attribute.EC_PARAMS: encode_named_curve_parameters(curve)}, local=True
        )
        params.generate_keypair(
            id=key_id,
            label=label,
            store=True,
            capabilities=MechanismFlag.SIGN | MechanismFlag.VERIFY,
            public_template=dict(_PUBLIC_TEMPLATE),
            private_template=dict(_PRIVATE_TEMPLATE),
        )

    session.run("generating an EC key pair", generate)
    return Pkcs11Key(session, key_id)


def write_certificate(
    session: TokenSession,
    certificate: asn1_x509.Certificate | bytes,
    *,
    label: str,
    key_id: bytes,
) -> None:
    """Store an X.509 certificate on the token; give it the CKA_ID and label of its key pair.

    A CA certificate of the chain gets its own id (e.g. its subject key identifier) and label.
    """
    cert = certificate if isinstance(certificate, asn1_x509.Certificate) else asn1_x509.Certificate.load(certificate)

    def write(raw):
        raw.create_object(
            {
                Attribute.CLASS: ObjectClass.CERTIFICATE,
                Attribute.CERTIFICATE_TYPE: pkcs11.CertificateType.X_509,
                Attribute.TOKEN: True,
                Attribute.PRIVATE: False,
                Attribute.LABEL: label,
                Attribute.ID: key_id,
                Attribute.SUBJECT: cert.subject.dump(),
                Attribute.ISSUER: cert.issuer.dump(),
                Attribute.SERIAL_NUMBER: asn1_core.Integer(cert.serial_number).dump(),
                Attribute.VALUE: cert.dump(),
            }
        )

    session.run("writing a certificate", write)


class ObjectKind(enum.Enum):
    PRIVATE_KEY = "private_key"
    PUBLIC_KEY = "public_key"
    CERTIFICATE = "certificate"
    OTHER = "other"


@dataclass(frozen=True)
class TokenObject:
    """An object on a token as listings show it (never key material)."""

    kind: ObjectKind
    label: str
    key_id: bytes
    key_algorithm: KeyAlgorithm | None = None
    certificate: bytes | None = None  # DER, for certificates

    def to_json(self) -> dict:
        return {
            "kind": self.kind.value,
            "label": self.label,
            "id": self.key_id.hex(),
            "key_algorithm": self.key_algorithm.value if self.key_algorithm else None,
        }


_KINDS = {
    ObjectClass.PRIVATE_KEY: ObjectKind.PRIVATE_KEY,
    ObjectClass.PUBLIC_KEY: ObjectKind.PUBLIC_KEY,
    ObjectClass.CERTIFICATE: ObjectKind.CERTIFICATE,
}
_ALGORITHMS = {KeyType.RSA: KeyAlgorithm.RSA, KeyType.EC: KeyAlgorithm.EC}


def list_objects(session: TokenSession) -> list[TokenObject]:
    """Every key and certificate object on the token, by class, label and CKA_ID."""

    def collect(raw) -> list[TokenObject]:
        found = []
        for object_class in (ObjectClass.PRIVATE_KEY, ObjectClass.PUBLIC_KEY, ObjectClass.CERTIFICATE):
            for obj in raw.get_objects({Attribute.CLASS: object_class}):
                label = obj[Attribute.LABEL] or ""
                key_id = bytes(obj[Attribute.ID] or b"")
                if object_class is ObjectClass.CERTIFICATE:
                    found.append(
                        TokenObject(ObjectKind.CERTIFICATE, label, key_id, certificate=bytes(obj[Attribute.VALUE]))
                    )
                else:
                    algorithm = _ALGORITHMS.get(obj[Attribute.KEY_TYPE])
                    found.append(TokenObject(_KINDS[object_class], label, key_id, key_algorithm=algorithm))
        return found

    return session.run("listing objects", collect)


_CLASSES = {kind: object_class for object_class, kind in _KINDS.items()}
KEY_PAIR_AND_CERTIFICATE = frozenset({ObjectKind.PRIVATE_KEY, ObjectKind.PUBLIC_KEY, ObjectKind.CERTIFICATE})


def delete_objects(
    session: TokenSession,
    *,
    key_id: bytes,
    label: str,
    kinds: frozenset[ObjectKind] = KEY_PAIR_AND_CERTIFICATE,
) -> list[TokenObject]:
    """Delete the private key, public key and certificate (or only `kinds`) with CKA_ID `key_id` AND
    CKA_LABEL `label`; return what was deleted (an empty list when nothing matched).

    Both must match, so an object that only shares the id or only the label stays. Used to take back a
    key pair whose enrolment failed (kyso.enrolment) so that no orphan key is left on the token. Objects go
    in the order certificate, public key, private key; when the token refuses one (`TokenOperationFailed`),
    those before it are gone and the rest stay.
    """
    key_id = bytes(key_id)
    if not key_id or not label:
        # An empty CKA_ID or label would match objects that were never ours.
        raise TokenBridgeError(
            "Refusing to delete token objects without both a CKA_ID and a label.",
            "Không xóa đối tượng trên thiết bị khi thiếu mã (CKA_ID) hoặc nhãn.",
        )
    unknown = set(kinds) - set(KEY_PAIR_AND_CERTIFICATE)
    if unknown:
        raise TokenBridgeError(
            f"Only keys and certificates can be deleted, not {sorted(k.value for k in unknown)}.",
            f"Chỉ xóa được khóa và chứng thư số, không xóa được {sorted(k.value for k in unknown)}.",
        )

    def delete(raw) -> list[TokenObject]:
        deleted = []
        for kind in (ObjectKind.CERTIFICATE, ObjectKind.PUBLIC_KEY, ObjectKind.PRIVATE_KEY):
            if kind not in kinds:
                continue
            # The search is finished (list) before any object is destroyed: no C_DestroyObject mid-search.
            matches = list(raw.get_objects({Attribute.CLASS: _CLASSES[kind], Attribute.ID: key_id,
                                            Attribute.LABEL: label}))
            for obj in matches:
                if kind is ObjectKind.CERTIFICATE:
                    listed = TokenObject(kind, label, key_id, certificate=bytes(obj[Attribute.VALUE]))
                else:
                    listed = TokenObject(kind, label, key_id, key_algorithm=_ALGORITHMS.get(obj[Attribute.KEY_TYPE]))
                obj.destroy()
                deleted.append(listed)
        if any(obj.kind is ObjectKind.PRIVATE_KEY for obj in deleted):
            # Pkcs11Key caches the private key handle per login (TokenSession.cached): forget the dead one.
            session._objects.pop(("private", key_id), None)
        return deleted

    return session.run("deleting objects", delete)
