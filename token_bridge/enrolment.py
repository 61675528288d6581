"""Enrolment through the bridge (issue 13): on the official's computer the key pair is generated on the
token, the token signs a PKCS#10 request, and later the certificate the service issued (with its chain) is
written back beside the key. The private key never leaves the token; the browser only carries the CSR and
the certificate.

The same rules as signing: the calling origin is checked by the HTTP layer, the user consents in the
bridge's own dialog (naming the origin, the holder and the token), the PIN is asked by the bridge, and every
outcome is audited. A certificate is written only beside the key it certifies (the public keys must match).

The CSR is built here with asn1crypto (RFC 2986) rather than with `ca`: token_bridge imports nothing of ours
but policies (DESIGN.md).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import secrets
from dataclasses import dataclass

from asn1crypto import csr as asn1_csr
from asn1crypto import x509

from policies.keys import DigestAlgorithm, SignatureScheme
from token_bridge.audit import AuditRecord
from token_bridge.consent import ConsentRequest
from token_bridge.errors import ConsentRefused, InvalidSignRequest, KeyCertificateMismatch, TokenBridgeError, TokenNotPresent
from token_bridge.keys import Pkcs11Key, generate_ec_key_pair, generate_rsa_key_pair, write_certificate

_PRINTABLE = {"country_name", "serial_number"}  # RFC 5280 appendix A
_MAX_ATTRIBUTES = 20


def _invalid(en: str, vi: str) -> InvalidSignRequest:
    return InvalidSignRequest(en, vi)


@dataclass(frozen=True)
class KeyRequest:
    """Generate a key on `token_label` and sign a CSR for `subject` (ordered (attribute, value) pairs)."""

    token_label: str
    subject: tuple[tuple[str, str], ...]
    key_type: str  # rsa | ec
    description: str

    @classmethod
    def from_json(cls, body: object) -> "KeyRequest":
        if not isinstance(body, dict):
            raise _invalid("The body must be a JSON object.", "Nội dung phải là một đối tượng JSON.")
        unknown = sorted(set(body) - {"token_label", "subject", "key_type", "description"})
        if unknown:
            raise _invalid(f"Unknown field(s): {', '.join(unknown)}.", f"Trường không hỗ trợ: {', '.join(unknown)}.")
        label, key_type, description = body.get("token_label"), body.get("key_type", "rsa"), body.get("description", "")
        if not isinstance(label, str) or not label:
            raise _invalid("'token_label' is required.", "Thiếu 'token_label'.")
        if key_type not in ("rsa", "ec"):
            raise _invalid("'key_type' must be rsa or ec.", "'key_type' phải là rsa hoặc ec.")
        if not isinstance(description, str) or len(description) > 300:
            raise _invalid("'description' must be text of at most 300 characters.", "'description' tối đa 300 ký tự.")
        subject = body.get("subject")
        if (not isinstance(subject, list) or not 0 < len(subject) <= _MAX_ATTRIBUTES
                or not all(isinstance(p, list) and len(p) == 2 and all(isinstance(v, str) and v for v in p) for p in subject)):
            raise _invalid("'subject' must be a list of [attribute, value] pairs.", "'subject' phải là danh sách cặp [thuộc tính, giá trị].")
        for name, _value in subject:
            if name not in x509.NameType._map.values():
                raise _invalid(f"Unknown name attribute {name!r}.", f"Thuộc tính tên không biết {name!r}.")
        return cls(label, tuple((n, v) for n, v in subject), key_type, description)

    @property
    def common_name(self) -> str:
        return next((v for n, v in self.subject if n == "common_name"), "?")


@dataclass(frozen=True)
class CertificateDelivery:
    """Write `certificate` (and its `chain`, CA certificates) beside the key `key_id` of `token_label`."""

    token_label: str
    key_id: bytes
    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...]

    @classmethod
    def from_json(cls, body: object) -> "CertificateDelivery":
        if not isinstance(body, dict):
            raise _invalid("The body must be a JSON object.", "Nội dung phải là một đối tượng JSON.")
        unknown = sorted(set(body) - {"token_label", "key_id", "certificate", "chain"})
        if unknown:
            raise _invalid(f"Unknown field(s): {', '.join(unknown)}.", f"Trường không hỗ trợ: {', '.join(unknown)}.")
        label = body.get("token_label")
        if not isinstance(label, str) or not label:
            raise _invalid("'token_label' is required.", "Thiếu 'token_label'.")
        try:
            key_id = bytes.fromhex(body.get("key_id") or "")
            certificate = x509.Certificate.load(base64.b64decode(body.get("certificate") or "", validate=True))
            certificate.native
            chain = tuple(x509.Certificate.load(base64.b64decode(c, validate=True)) for c in body.get("chain") or [])
            for c in chain:
                c.native
        except (ValueError, TypeError, binascii.Error) as exc:
            raise _invalid("'key_id' (hex), 'certificate' and 'chain' (base64 DER) are unreadable.",
                           "'key_id' (hex), 'certificate' và 'chain' (base64 DER) không đọc được.") from exc
        if not key_id:
            raise _invalid("'key_id' is required.", "Thiếu 'key_id'.")
        return cls(label, key_id, certificate, chain)


def build_name(subject) -> x509.Name:
    """One RDN per attribute in the given order (repeated OU keep their order); UTF8String but for C and
    serialNumber (PrintableString), as ca/names.py writes them."""
    rdns = []
    for name, value in subject:
        encoded = x509.DirectoryString(name="printable_string" if name in _PRINTABLE else "utf8_string", value=value)
        rdns.append(x509.RelativeDistinguishedName([x509.NameTypeAndValue({"type": name, "value": encoded})]))
    return x509.Name(name="", value=x509.RDNSequence(rdns))


def build_csr(key: Pkcs11Key, subject) -> bytes:
    """A DER PKCS#10 request (RFC 2986) for `subject`, signed on the token with SHA-256."""
    public_key = key.public_key_info()
    info = asn1_csr.CertificationRequestInfo({"version": "v1", "subject": build_name(subject),
                                              "subject_pk_info": public_key, "attributes": []})
    digest = hashlib.sha256(info.dump()).digest()
    if public_key.algorithm == "rsa":
        scheme, algorithm = SignatureScheme.RSA_PKCS1V15, "sha256_rsa"
    else:
        scheme, algorithm = SignatureScheme.ECDSA, "sha256_ecdsa"
    signature = key.sign_digest(digest, digest_algorithm=DigestAlgorithm.SHA256, scheme=scheme)
    return asn1_csr.CertificationRequest({"certification_request_info": info,
                                          "signature_algorithm": {"algorithm": algorithm},
                                          "signature": signature}).dump()


class Enrolment:
    """The two enrolment steps of one bridge (they share its consent, PIN prompt, lock and audit log)."""

    def __init__(self, bridge):
        self.bridge = bridge

    def _module(self, label: str):
        for module in self.bridge.modules:
            if any(token.label == label for token in module.tokens()):
                return module
        raise TokenNotPresent(f"No token labelled '{label}' is present.", f"Không có thiết bị '{label}'.")

    def _audit(self, requester, label: str, signer: str, description: str, digest: bytes, outcome: str, error=None):
        self.bridge.audit.record(AuditRecord(
            time=self.bridge.audit.now(), origin=requester.origin or "local application", client=requester.client,
            certificate_id="", token_label=label, signer=signer, description=description, digest_algorithm="sha256",
            signature_algorithm="", digest=digest.hex(), outcome=outcome,
            error_code=error.code if error else None, message=str(error) if error else None, event="enrolment"))

    def generate(self, request: KeyRequest, *, requester) -> dict:
        """Ask consent, generate the key pair on the token, have the token sign the CSR."""
        description = (f"Tạo cặp khóa mới và ký yêu cầu cấp chứng thư cho {request.common_name} / generate a new "
                       f"key pair and sign a certificate request for {request.common_name}"
                       + (f": {request.description}" if request.description else ""))
        try:
            with self.bridge._signing:
                module = self._module(request.token_label)
                consent = ConsentRequest(description=description, origin=requester.shown, signer=request.common_name,
                                         certificate_kind="unknown", token_label=request.token_label,
                                         digest_algorithm="sha256",
                                         signature_algorithm="rsassa_pkcs1v15" if request.key_type == "rsa" else "ecdsa")
                if not self.bridge.consent.ask_consent(consent):
                    raise ConsentRefused()
                session = module.session(request.token_label, pin_prompt=self.bridge.pin_prompt)
                key_id = secrets.token_bytes(8)
                label = f"kyso {request.common_name}"[:64]
                if request.key_type == "rsa":
                    key = generate_rsa_key_pair(session, label=label, key_id=key_id)
                else:
                    key = generate_ec_key_pair(session, label=label, key_id=key_id)
                csr = build_csr(key, request.subject)
        except TokenBridgeError as error:
            self._audit(requester, request.token_label, request.common_name, description, b"",
                        "refused" if error.http_status < 500 else "failed", error)
            raise
        self._audit(requester, request.token_label, request.common_name, description, hashlib.sha256(csr).digest(), "key_generated")
        return {"token_label": request.token_label, "key_id": key_id.hex(), "key_label": label,
                "csr": base64.b64encode(csr).decode("ascii")}

    def deliver(self, delivery: CertificateDelivery, *, requester) -> dict:
        """Write the certificate beside its key (refused unless the public keys match) and the chain."""
        certificate = delivery.certificate
        signer = certificate.subject.native.get("common_name", "?")
        try:
            with self.bridge._signing:
                module = self._module(delivery.token_label)
                session = module.session(delivery.token_label, pin_prompt=self.bridge.pin_prompt)
                key = Pkcs11Key(session, delivery.key_id)
                if key.public_key_info().dump() != certificate.public_key.dump():
                    raise KeyCertificateMismatch(
                        f"The certificate does not certify the key {delivery.key_id.hex()} of this token.",
                        f"Chứng thư không thuộc khóa {delivery.key_id.hex()} của thiết bị này.")
                label = f"kyso {signer}"[:64]
                write_certificate(session, certificate, label=label, key_id=delivery.key_id)
                for ca in delivery.chain:
                    if not _has_certificate(session, ca):
                        write_certificate(session, ca, label=ca.subject.native.get("common_name", "CA")[:64],
                                          key_id=ca.key_identifier or hashlib.sha1(ca.public_key.dump()).digest())
        except TokenBridgeError as error:
            self._audit(requester, delivery.token_label, signer, "enrolment: write certificate", b"",
                        "refused" if error.http_status < 500 else "failed", error)
            raise
        entries = self.bridge.catalogue.scan()
        entry = next((e for e in entries if e.certificate.dump() == certificate.dump()), None)
        self._audit(requester, delivery.token_label, signer, "enrolment: write certificate",
                    hashlib.sha256(certificate.dump()).digest(), "certificate_written")
        return {"certificate_id": entry.certificate_id if entry else None, "token_label": delivery.token_label}


def _has_certificate(session, certificate: x509.Certificate) -> bool:
    from pkcs11 import Attribute, ObjectClass

    def find(raw) -> bool:
        return any(True for _ in raw.get_objects({Attribute.CLASS: ObjectClass.CERTIFICATE,
                                                  Attribute.VALUE: certificate.dump()}))

    return session.run_public("looking for a certificate", find)
