"""Trust anchors: the demo PKI's root added at run time, and real roots pinned by SHA-256.

DOMAIN.md, "Certificates": the real VGCA and national roots are shipped as pins (name and SHA-256 of the
DER certificate), each enabled separately. A certificate becomes such an anchor only when its SHA-256 equals
an enabled pin; anything else offered as a trust root must be added explicitly (`explicit`), which is how
the demo PKI's root and `kyso verify --trust FILE` enter.
"""

from __future__ import annotations

import enum
import hashlib
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources

from asn1crypto import pem, x509

from policies.decision import PolicyError


class AnchorRole(enum.Enum):
    ROOT = "root"
    INTERMEDIATE = "intermediate"  # pinned issuing CA: trusted as a point where a path may end


@dataclass(frozen=True)
class AnchorPin:
    """A named anchor known by the SHA-256 of its DER certificate."""

    key: str
    name: str
    description: str
    sha256: str  # upper-case hex, 64 characters
    role: AnchorRole
    enabled: bool

    def __post_init__(self) -> None:
        if len(self.sha256) != 64 or any(c not in "0123456789ABCDEF" for c in self.sha256):
            raise PolicyError(f"anchor {self.key}: sha256 must be 64 upper-case hex digits")

    def matches(self, certificate_der: bytes) -> bool:
        return fingerprint(certificate_der) == self.sha256


@dataclass(frozen=True)
class TrustAnchor:
    """A certificate the verifier trusts, and why (which pin it matched, or that it was given explicitly)."""

    certificate: x509.Certificate
    source: str  # "pin:<key>" or "explicit:<label>"
    name: str

    @property
    def sha256(self) -> str:
        return fingerprint(self.certificate.dump())

    def to_json(self) -> dict:
        return {"name": self.name, "source": self.source, "sha256": self.sha256,
                "subject": self.certificate.subject.human_friendly}


def fingerprint(certificate_der: bytes) -> str:
    return hashlib.sha256(certificate_der).hexdigest().upper()


def load_certificates(data: bytes) -> list[x509.Certificate]:
    """DER, one PEM or a PEM bundle into certificates; a precise PolicyError otherwise."""
    try:
        if pem.detect(data):
            # A bundle may also hold keys or CRLs (iText's rootRsa.pem carries its encrypted test key):
            # only the CERTIFICATE blocks are certificates.
            found = [x509.Certificate.load(der) for kind, _, der in pem.unarmor(data, multiple=True)
                     if kind in ("CERTIFICATE", "X509 CERTIFICATE", "TRUSTED CERTIFICATE")]
            for certificate in found:
                certificate.native  # force a full parse: asn1crypto is lazy
            if not found:
                raise ValueError("the PEM data holds no CERTIFICATE block")
            return found
        certificate = x509.Certificate.load(data)
        certificate.native  # force a full parse: asn1crypto is lazy
        return [certificate]
    except (ValueError, TypeError) as exc:
        raise PolicyError(f"not a certificate (DER or PEM): {exc}") from exc


@dataclass(frozen=True)
class AnchorSet:
    """The pins of a policy, with which of them are enabled."""

    pins: tuple[AnchorPin, ...]

    @classmethod
    def default(cls) -> "AnchorSet":
        text = resources.files("policies").joinpath("data/trust_anchors.toml").read_text(encoding="utf-8")
        return cls.from_toml(text)

    @classmethod
    def from_toml(cls, text: str) -> "AnchorSet":
        data = tomllib.loads(text)
        unknown = set(data) - {"anchors"}
        if unknown:
            raise PolicyError(f"trust anchors: unknown key(s) {', '.join(sorted(unknown))}")
        pins = []
        for key, entry in data.get("anchors", {}).items():
            extra = set(entry) - {"name", "description", "sha256", "role", "enabled"}
            if extra:
                raise PolicyError(f"anchor {key}: unknown key(s) {', '.join(sorted(extra))}")
            try:
                pins.append(AnchorPin(
                    key=key, name=entry["name"], description=entry.get("description", ""),
                    sha256=entry["sha256"].upper(), role=AnchorRole(entry.get("role", "root")),
                    enabled=bool(entry.get("enabled", True)),
                ))
            except KeyError as exc:
                raise PolicyError(f"anchor {key}: missing {exc.args[0]}") from exc
            except ValueError as exc:
                raise PolicyError(f"anchor {key}: {exc}") from exc
        return cls(tuple(pins))

    def only(self, keys: Iterable[str]) -> "AnchorSet":
        """The same pins with exactly `keys` enabled (an unknown key is an error naming it)."""
        wanted = set(keys)
        unknown = wanted - {p.key for p in self.pins}
        if unknown:
            raise PolicyError(f"unknown trust anchor(s) {', '.join(sorted(unknown))}; "
                              f"known: {', '.join(p.key for p in self.pins)}")
        return AnchorSet(tuple(
            AnchorPin(p.key, p.name, p.description, p.sha256, p.role, p.key in wanted) for p in self.pins
        ))

    def pin_for(self, certificate: x509.Certificate) -> AnchorPin | None:
        """The enabled pin this certificate matches byte for byte (SHA-256 of its DER), if any."""
        digest = fingerprint(certificate.dump())
        for pin in self.pins:
            if pin.enabled and pin.sha256 == digest:
                return pin
        return None

    def select(
        self, candidates: Iterable[x509.Certificate], *, explicit: Iterable[tuple[str, x509.Certificate]] = ()
    ) -> tuple[TrustAnchor, ...]:
        """Trust anchors from candidate certificates (kept only when they match an enabled pin) and
        from certificates given explicitly (the demo PKI, `--trust`). Duplicates are dropped."""
        anchors: dict[str, TrustAnchor] = {}
        for label, certificate in explicit:
            anchors.setdefault(fingerprint(certificate.dump()), TrustAnchor(
                certificate, f"explicit:{label}", certificate.subject.human_friendly))
        for certificate in candidates:
            pin = self.pin_for(certificate)
            if pin is not None:
                anchors.setdefault(pin.sha256, TrustAnchor(certificate, f"pin:{pin.key}", pin.name))
        return tuple(anchors.values())
