"""The prepare / complete state: everything needed to finish a signature later, as plain serialisable data.

The central service stores the state (it is stateless between requests, DESIGN.md); the client's token
signs only the digest of the CMS signed attributes. `complete` accepts a state once: the caller passes a
`UsedStates` that claims state ids atomically (the service's database; `InMemoryUsedStates` for one process).
"""

from __future__ import annotations

import base64
import json
import threading
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Protocol, runtime_checkable

from asn1crypto import x509

from policies.keys import DigestAlgorithm, SignatureScheme
from signer.cms import digest_of
from signer.errors import StateInvalid
from signer.request import IssuedNumber, PadesLevel, SignatureKind

STATE_VERSION = 1


@runtime_checkable
class UsedStates(Protocol):
    """Remembers completed states. `claim` returns False when the id was already claimed (atomically)."""

    def claim(self, state_id: str) -> bool: ...


class InMemoryUsedStates:
    """UsedStates for one process (the CLI, tests). The service keeps them in its database instead."""

    def __init__(self):
        self._claimed: set[str] = set()
        self._lock = threading.Lock()

    def claim(self, state_id: str) -> bool:
        with self._lock:
            if state_id in self._claimed:
                return False
            self._claimed.add(state_id)
            return True


@dataclass(frozen=True)
class SigningState:
    """A document in its final pre-signing state, with the signed attributes waiting for a signature."""

    state_id: str
    kind: SignatureKind
    level: PadesLevel
    digest_algorithm: DigestAlgorithm
    scheme: SignatureScheme
    certificate: bytes = field(repr=False)  # DER
    chain: tuple[bytes, ...] = field(repr=False)  # DER
    document: bytes = field(repr=False)  # the PDF with the reserved /Contents placeholder
    reserved_start: int
    reserved_end: int
    document_digest: bytes = field(repr=False)
    signed_attributes: bytes = field(repr=False)  # DER of the CMS SignedAttributes (SET OF)
    signing_time: datetime
    field_name: str
    number: IssuedNumber | None = None

    @property
    def digest_to_sign(self) -> bytes:
        return digest_of(self.signed_attributes, self.digest_algorithm)

    def signer_certificate(self) -> x509.Certificate:
        return x509.Certificate.load(self.certificate)

    def chain_certificates(self) -> list[x509.Certificate]:
        return [x509.Certificate.load(der) for der in self.chain]

    def to_json(self) -> str:
        b64 = lambda data: base64.b64encode(data).decode("ascii")  # noqa: E731
        return json.dumps({
            "version": STATE_VERSION,
            "state_id": self.state_id,
            "kind": self.kind.value,
            "level": self.level.value,
            "digest_algorithm": self.digest_algorithm.value,
            "scheme": self.scheme.value,
            "certificate": b64(self.certificate),
            "chain": [b64(der) for der in self.chain],
            "document": b64(self.document),
            "reserved_start": self.reserved_start,
            "reserved_end": self.reserved_end,
            "document_digest": b64(self.document_digest),
            "signed_attributes": b64(self.signed_attributes),
            "signing_time": self.signing_time.isoformat(),
            "field_name": self.field_name,
            "number": None if self.number is None else {
                "number": self.number.number, "series": self.number.series,
                "issued_on": self.number.issued_on.isoformat(),
            },
        })

    @classmethod
    def from_json(cls, text: str | bytes) -> "SigningState":
        """Parse a stored state; anything malformed is StateInvalid."""
        try:
            data = json.loads(text)
            if data.get("version") != STATE_VERSION:
                raise ValueError(f"unsupported state version {data.get('version')!r}")
            unb64 = lambda value: base64.b64decode(value, validate=True)  # noqa: E731
            number = data.get("number")
            state = cls(
                state_id=str(data["state_id"]),
                kind=SignatureKind(data["kind"]),
                level=PadesLevel(data["level"]),
                digest_algorithm=DigestAlgorithm(data["digest_algorithm"]),
                scheme=SignatureScheme(data["scheme"]),
                certificate=unb64(data["certificate"]),
                chain=tuple(unb64(der) for der in data["chain"]),
                document=unb64(data["document"]),
                reserved_start=int(data["reserved_start"]),
                reserved_end=int(data["reserved_end"]),
                document_digest=unb64(data["document_digest"]),
                signed_attributes=unb64(data["signed_attributes"]),
                signing_time=datetime.fromisoformat(data["signing_time"]),
                field_name=str(data["field_name"]),
                number=None if number is None else IssuedNumber(
                    int(number["number"]), str(number["series"]), date.fromisoformat(number["issued_on"])
                ),
            )
            if not (0 < state.reserved_start < state.reserved_end <= len(state.document)):
                raise ValueError("the reserved region lies outside the document")
            state.signer_certificate().native  # parse now, not at completion
        except (ValueError, KeyError, TypeError) as exc:
            raise StateInvalid(f"trạng thái ký không hợp lệ / invalid signing state: {exc}") from exc
        return state
