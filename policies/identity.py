"""Who a certificate names: the identity parsed from a Vietnamese government or public-CA subject.

DOMAIN.md, "Certificates": identifiers sit in `UID` (0.9.2342.19200300.100.1.1) with a prefix (persons
`CCCD:`, `CMND:`, `HC:`; organisations `MST:`, `MNS:`); a subject may carry several. From 2026 the national
format may put them in `serialNumber` (2.5.4.5) or `organizationIdentifier` (2.5.4.97), sometimes in the
ETSI EN 319 412-1 semantic form (`VATVN-0100686209`): parse tolerantly, never raise on an odd subject.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from asn1crypto import x509


class IdentifierKind(enum.Enum):
    CCCD = "CCCD"  # 12-digit citizen identity card
    CMND = "CMND"  # old 9/12-digit identity card
    HC = "HC"  # passport
    MST = "MST"  # tax code (branches: MST:0100686209-199)
    MNS = "MNS"  # budget-unit code
    OTHER = "OTHER"

    @property
    def is_person(self) -> bool:
        return self in (IdentifierKind.CCCD, IdentifierKind.CMND, IdentifierKind.HC)

    @property
    def is_organisation(self) -> bool:
        return self in (IdentifierKind.MST, IdentifierKind.MNS)


@dataclass(frozen=True)
class Identifier:
    kind: IdentifierKind
    value: str
    source: str  # which attribute carried it: "uid", "serial_number", "organization_identifier"

    def __str__(self) -> str:
        return f"{self.kind.value}:{self.value}" if self.kind is not IdentifierKind.OTHER else self.value


class HolderKind(enum.Enum):
    """Person (personal signature) or organisation (the agency's seal key)."""

    PERSON = "person"
    ORGANISATION = "organisation"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Identity:
    common_name: str | None
    identifiers: tuple[Identifier, ...]
    units: tuple[str, ...]  # OU values in certificate order: lowest level first in VGCA subjects
    organization: str | None
    title: str | None
    locality: str | None
    state: str | None
    country: str | None
    email: str | None

    @property
    def holder_kind(self) -> HolderKind:
        """DOMAIN.md: an organisation certificate has MST/MNS and no person id."""
        has_person = any(i.kind.is_person for i in self.identifiers)
        has_org = any(i.kind.is_organisation for i in self.identifiers)
        if has_person:
            return HolderKind.PERSON
        if has_org:
            return HolderKind.ORGANISATION
        return HolderKind.UNKNOWN

    def identifiers_of(self, kind: IdentifierKind) -> tuple[str, ...]:
        return tuple(i.value for i in self.identifiers if i.kind is kind)

    def to_json(self) -> dict:
        return {
            "common_name": self.common_name,
            "identifiers": [str(i) for i in self.identifiers],
            "units": list(self.units),
            "organization": self.organization,
            "title": self.title,
            "locality": self.locality,
            "state": self.state,
            "country": self.country,
            "email": self.email,
            "holder_kind": self.holder_kind.value,
        }


_PREFIXED = re.compile(r"^\s*(CCCD|CMND|HC|MST|MNS)\s*[:=]\s*(\S.*?)\s*$", re.IGNORECASE)
# ETSI EN 319 412-1 clause 5.1.3 semantic identifiers: 3-letter type, 2-letter country, hyphen.
_SEMANTIC = re.compile(r"^\s*(PAS|IDC|PNO|TIN|VAT|NTR)([A-Z]{2})-(\S+)\s*$")
_SEMANTIC_KIND = {
    "PAS": IdentifierKind.HC,
    "IDC": IdentifierKind.CCCD,
    "PNO": IdentifierKind.CCCD,
    "TIN": IdentifierKind.MST,
    "VAT": IdentifierKind.MST,
    "NTR": IdentifierKind.MST,
}


def parse_identifier(value: str, *, source: str) -> Identifier:
    """Read one identifier attribute value; unknown shapes are kept as OTHER, not dropped."""
    match = _PREFIXED.match(value)
    if match:
        return Identifier(IdentifierKind(match.group(1).upper()), match.group(2), source)
    match = _SEMANTIC.match(value)
    if match:
        return Identifier(_SEMANTIC_KIND[match.group(1)], match.group(3), source)
    bare = value.strip()
    if source == "serial_number" and re.fullmatch(r"\d{12}", bare):
        return Identifier(IdentifierKind.CCCD, bare, source)
    return Identifier(IdentifierKind.OTHER, bare, source)


_IDENTIFIER_ATTRIBUTES = {"user_id", "serial_number", "organization_identifier"}


def parse_name(name: x509.Name) -> Identity:
    """The identity carried by a distinguished name, attributes kept in certificate order."""
    values: dict[str, list[str]] = {}
    identifiers: list[Identifier] = []
    for rdn in name.chosen:
        for atv in rdn:
            attr = atv["type"].native
            try:
                text = atv["value"].native
            except ValueError:  # undecodable string types in foreign certificates: skip, never crash
                continue
            if not isinstance(text, str):
                continue
            if attr in _IDENTIFIER_ATTRIBUTES or atv["type"].dotted == "0.9.2342.19200300.100.1.1":
                identifiers.append(parse_identifier(text, source=_source_name(atv["type"].dotted)))
                continue
            values.setdefault(attr, []).append(text)

    def first(attr: str) -> str | None:
        found = values.get(attr)
        return found[0] if found else None

    return Identity(
        common_name=first("common_name"),
        identifiers=tuple(identifiers),
        units=tuple(values.get("organizational_unit_name", ())),
        organization=first("organization_name"),
        title=first("title"),
        locality=first("locality_name"),
        state=first("state_or_province_name"),
        country=first("country_name"),
        email=first("email_address"),
    )


def _source_name(dotted: str) -> str:
    return {
        "0.9.2342.19200300.100.1.1": "uid",
        "2.5.4.5": "serial_number",
        "2.5.4.97": "organization_identifier",
    }.get(dotted, dotted)


def parse_identity(certificate: x509.Certificate | bytes) -> Identity:
    """The identity of a certificate's subject (DER bytes or an asn1crypto certificate)."""
    if isinstance(certificate, (bytes, bytearray)):
        certificate = x509.Certificate.load(bytes(certificate))
    return parse_name(certificate.subject)
