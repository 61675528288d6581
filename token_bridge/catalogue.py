"""The certificates on the present tokens, with their identities, kinds and chains.

Certificates are public objects: listing them needs no PIN. A personal or agency end-entity certificate (not
a CA, TSA or OCSP responder: `is_signing_certificate`) is a signing certificate; its private key has the same
CKA_ID on the same token. CA certificates found on any
token, plus the configured extra chain certificates, build each certificate's chain (issuer first).
A certificate's id is the SHA-256 of its DER encoding, in lower-case hex: stable across slots and restarts.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

from asn1crypto import x509
from pkcs11 import Attribute, ObjectClass

from policies.identity import HolderKind, Identity, parse_identity
from policies.keys import SignatureScheme
from token_bridge.errors import CertificateNotFound, TokenBridgeError
from token_bridge.module import PKCS11_LOCK, Pkcs11Module


def certificate_id(certificate: x509.Certificate) -> str:
    return hashlib.sha256(certificate.dump()).hexdigest()


@dataclass(frozen=True)
class CertificateEntry:
    certificate_id: str
    module_path: str
    token_label: str
    key_label: str
    key_id: bytes
    certificate: x509.Certificate
    identity: Identity
    chain: tuple[x509.Certificate, ...]  # issuer first, up to a self-signed root when known

    @property
    def kind(self) -> str:
        """DOMAIN.md: `agency` for an organisation certificate (MST/MNS, no person id), `personal` for a
        person's, `unknown` otherwise."""
        return {HolderKind.PERSON: "personal", HolderKind.ORGANISATION: "agency"}.get(
            self.identity.holder_kind, "unknown"
        )

    @property
    def key_algorithm(self) -> str:
        return self.certificate.public_key.algorithm

    @property
    def signature_schemes(self) -> tuple[SignatureScheme, ...]:
        if self.key_algorithm == "rsa":
            return (SignatureScheme.RSA_PKCS1V15, SignatureScheme.RSA_PSS)
        return (SignatureScheme.ECDSA,)

    def to_json(self) -> dict:
        cert = self.certificate
        public_key = cert.public_key
        return {
            "id": self.certificate_id,
            "token": self.token_label,
            "key_label": self.key_label,
            "kind": self.kind,
            "subject": cert.subject.human_friendly,
            "issuer": cert.issuer.human_friendly,
            "serial_number": format(cert.serial_number, "x"),
            "not_before": cert.not_valid_before.isoformat(),
            "not_after": cert.not_valid_after.isoformat(),
            "key_algorithm": self.key_algorithm,
            "key_size": public_key.bit_size,
            "curve": public_key.curve[1] if self.key_algorithm == "ec" else None,
            "signature_algorithms": [s.value for s in self.signature_schemes],
            "identity": self.identity.to_json(),
            "certificate": base64.b64encode(cert.dump()).decode("ascii"),
            "chain": [base64.b64encode(c.dump()).decode("ascii") for c in self.chain],
        }


@dataclass(frozen=True)
class _Found:
    module_path: str
    token_label: str
    label: str
    key_id: bytes
    certificate: x509.Certificate


def _is_ca(certificate: x509.Certificate) -> bool:
    constraints = certificate.basic_constraints_value
    return bool(constraints and constraints["ca"].native)


_SERVICE_PURPOSES = frozenset({"time_stamping", "ocsp_signing"})
_SIGNING_USAGES = frozenset({"digital_signature", "non_repudiation"})


def is_signing_certificate(certificate: x509.Certificate, identity: Identity) -> bool:
    """A personal or agency signing certificate: not a CA, not a TSA or OCSP responder (RFC 5280 4.2.1.12,
    RFC 3161 2.3, RFC 6960 4.2.2.2), a key usage that signs documents (RFC 5280 4.2.1.3), and a holder that is
    a person or an organisation. The bridge lists and signs with these only (issue 9, item 6): a request
    naming any other key on a token must not even reach its PIN."""
    if _is_ca(certificate):
        return False
    purposes = certificate.extended_key_usage_value
    if purposes is not None and set(purposes.native) & _SERVICE_PURPOSES:
        return False
    usages = certificate.key_usage_value
    if usages is not None and not set(usages.native) & _SIGNING_USAGES:
        return False
    return identity.holder_kind in (HolderKind.PERSON, HolderKind.ORGANISATION)


def build_chain(certificate: x509.Certificate, pool: list[x509.Certificate]) -> tuple[x509.Certificate, ...]:
    """Issuer first, following issuer name and key identifiers through `pool`; stops at a self-signed CA."""
    chain: list[x509.Certificate] = []
    current = certificate
    seen = {certificate.dump()}
    while current.self_signed == "no":
        issuer = next(
            (
                candidate
                for candidate in pool
                if candidate.subject == current.issuer
                and candidate.dump() not in seen
                and (
                    current.authority_key_identifier is None
                    or candidate.key_identifier is None
                    or candidate.key_identifier == current.authority_key_identifier
                )
            ),
            None,
        )
        if issuer is None:
            break
        chain.append(issuer)
        seen.add(issuer.dump())
        current = issuer
    return tuple(chain)


class CertificateCatalogue:
    """Reads certificates from every token of the given modules; no login needed."""

    def __init__(self, modules: list[Pkcs11Module], *, extra_chain: tuple[x509.Certificate, ...] = ()):
        self.modules = modules
        self.extra_chain = tuple(extra_chain)
        self._entries: dict[str, CertificateEntry] = {}

    def scan(self) -> list[CertificateEntry]:
        """Read every present token now; skip a token that fails while being read (it is reported as absent)."""
        found: list[_Found] = []
        with PKCS11_LOCK:
            for module in self.modules:
                for token in module.tokens():
                    try:
                        found.extend(self._read_token(module, token.label))
                    except TokenBridgeError:
                        continue
        pool = [f.certificate for f in found if _is_ca(f.certificate)] + list(self.extra_chain)
        entries = []
        for item in found:
            if _is_ca(item.certificate):
                continue
            identity = parse_identity(item.certificate)
            if not is_signing_certificate(item.certificate, identity):
                continue  # a TSA, OCSP or other service key: never listed, never signed with
            entries.append(
                CertificateEntry(
                    certificate_id=certificate_id(item.certificate),
                    module_path=item.module_path,
                    token_label=item.token_label,
                    key_label=item.label,
                    key_id=item.key_id,
                    certificate=item.certificate,
                    identity=identity,
                    chain=build_chain(item.certificate, pool),
                )
            )
        self._entries = {e.certificate_id: e for e in entries}
        return entries

    def find(self, certificate_id: str) -> CertificateEntry:
        """The entry with this id (from the last scan, scanning again when unknown)."""
        entry = self._entries.get(certificate_id)
        if entry is None:
            self.scan()
            entry = self._entries.get(certificate_id)
        if entry is None:
            raise CertificateNotFound(certificate_id)
        return entry

    @staticmethod
    def _read_token(module: Pkcs11Module, label: str) -> list[_Found]:
        session = module.session(label)

        def read(raw) -> list[_Found]:
            result = []
            for obj in raw.get_objects({Attribute.CLASS: ObjectClass.CERTIFICATE}):
                try:
                    certificate = x509.Certificate.load(bytes(obj[Attribute.VALUE]))
                    certificate.native  # parse now: a broken object must not break the listing later
                except (ValueError, TypeError):
                    continue
                result.append(
                    _Found(module.path, label, obj[Attribute.LABEL] or "", bytes(obj[Attribute.ID] or b""), certificate)
                )
            return result

        return session.run_public("reading certificates", read)

