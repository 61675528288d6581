"""Certificate profiles: who may hold which certificate, and what the CA writes into it.

The profiles themselves are data (`policies/data/certificate-profiles.toml`); this module reads them into
frozen values and answers the two questions the CA asks before it signs anything: does this subject fit the
profile, and is this public key strong enough. DOMAIN.md, "Certificates": persons carry `UID=CCCD:` /
`CMND:` / `HC:`, organisations `UID=MST:` / `MNS:` and no person id; `OU` repeats, lowest level first;
`C=VN`; RSA >= 2048 or ECDSA >= P-256; at most 5 years for a new personal or agency certificate.
"""

from __future__ import annotations

import enum
import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Iterable

from asn1crypto import keys as asn1_keys

from policies.identity import IdentifierKind, parse_identifier
from policies.text import MAX_NAME_LENGTH, find_text_problem


class ProfileError(Exception):
    """A request does not fit a certificate profile. `str()` is Vietnamese then English."""

    def __init__(self, vietnamese: str, english: str):
        super().__init__(f"{vietnamese} / {english}")
        self.vietnamese = vietnamese
        self.english = english


class UnknownProfile(ProfileError):
    pass


class SubjectViolation(ProfileError):
    pass


class WeakKey(ProfileError):
    pass


class ProfileHolder(enum.Enum):
    """Who holds a certificate of the profile (a person, an organisation's seal, a CA, a service)."""

    PERSON = "person"
    ORGANISATION = "organisation"
    CA = "ca"
    SERVICE = "service"


# Identifier formats (DOMAIN.md): CCCD 12 digits, CMND 9 or 12, passport letters+digits, MST 10 digits with
# an optional 3-digit branch suffix, MNS (budget-unit code) 7 digits.
IDENTIFIER_FORMATS: dict[IdentifierKind, re.Pattern[str]] = {
    IdentifierKind.CCCD: re.compile(r"\d{12}"),
    IdentifierKind.CMND: re.compile(r"\d{9}|\d{12}"),
    IdentifierKind.HC: re.compile(r"[A-Z][A-Z0-9]{5,11}"),
    IdentifierKind.MST: re.compile(r"\d{10}(-\d{3})?"),
    IdentifierKind.MNS: re.compile(r"\d{7}"),
}

_ATTRIBUTE_LABELS = {
    "common_name": "CN",
    "user_id": "UID",
    "title": "T",
    "organizational_unit_name": "OU",
    "organization_name": "O",
    "locality_name": "L",
    "state_or_province_name": "ST",
    "country_name": "C",
    "email_address": "E",
    "serial_number": "serialNumber",
    "organization_identifier": "organizationIdentifier",
}

_SINGLE_VALUED = {"common_name", "organization_name", "country_name", "title", "locality_name",
                  "state_or_province_name", "email_address"}


def attribute_label(name: str) -> str:
    """The short label of a subject attribute (CN, UID, OU, ...) for messages."""
    return _ATTRIBUTE_LABELS.get(name, name)


@dataclass(frozen=True)
class KeyRequirements:
    rsa_min_bits: int
    ec_curves: tuple[str, ...]


@dataclass(frozen=True)
class CertificateProfile:
    name: str
    description: str
    holder: ProfileHolder
    key_usage: tuple[str, ...]
    extended_key_usage: tuple[str, ...]
    certificate_policies: tuple[str, ...]
    max_validity_days: int
    required_attributes: tuple[str, ...]
    allowed_attributes: tuple[str, ...]
    identifiers: tuple[IdentifierKind, ...]
    revocation_pointers: bool
    is_ca: bool = False
    path_length: int | None = None
    extended_key_usage_critical: bool = False
    ocsp_no_check: bool = False
    max_renewal_days: int | None = None  # None: certificates of this profile are not renewed

    def check_subject(self, attributes: Iterable[tuple[str, str]]) -> None:
        """Raise `SubjectViolation` naming the first attribute that does not fit this profile."""
        attributes = tuple(attributes)
        names = [name for name, _ in attributes]
        for name, value in attributes:
            label = attribute_label(name)
            if name not in self.allowed_attributes:
                raise SubjectViolation(
                    f"hồ sơ {self.name} không cho phép thuộc tính {label}",
                    f"profile {self.name} does not allow the subject attribute {label}",
                )
            if not isinstance(value, str) or not value.strip():
                raise SubjectViolation(
                    f"thuộc tính {label} trống", f"subject attribute {label} is empty"
                )
            # Names are shown to the people who rely on a signature: no control, bidi or invisible characters
            # (the same allow-list as consent text, policies/text.py; issue 9, item 9).
            problem = find_text_problem(value, field=f"subject attribute {label}", max_length=MAX_NAME_LENGTH)
            if problem is not None:
                vietnamese = problem.vietnamese.replace(f"subject attribute {label}", f"thuộc tính {label}")
                raise SubjectViolation(vietnamese, problem.english)
            if name in _SINGLE_VALUED and names.count(name) > 1:
                raise SubjectViolation(
                    f"thuộc tính {label} chỉ được xuất hiện một lần",
                    f"subject attribute {label} may appear only once",
                )
        for name in self.required_attributes:
            if name not in names:
                label = attribute_label(name)
                raise SubjectViolation(
                    f"hồ sơ {self.name} yêu cầu thuộc tính {label}",
                    f"profile {self.name} requires the subject attribute {label}",
                )
        country = dict(attributes).get("country_name")
        if country is not None and country != "VN":
            raise SubjectViolation(
                f"quốc gia (C) phải là VN, không phải {country}", f"country (C) must be VN, not {country}"
            )
        self._check_identifiers(attributes)

    def _check_identifiers(self, attributes: tuple[tuple[str, str], ...]) -> None:
        found = []
        for name, value in attributes:
            if name not in ("user_id", "serial_number", "organization_identifier"):
                continue
            identifier = parse_identifier(value, source=name)
            if identifier.kind is IdentifierKind.OTHER:
                if name == "user_id":
                    raise SubjectViolation(
                        f"UID {value!r} không có tiền tố hợp lệ (CCCD:, CMND:, HC:, MST:, MNS:)",
                        f"UID {value!r} has no known prefix (CCCD:, CMND:, HC:, MST:, MNS:)",
                    )
                continue
            if identifier.kind not in self.identifiers:
                allowed = ", ".join(k.value for k in self.identifiers) or "-"
                raise SubjectViolation(
                    f"hồ sơ {self.name} không cho phép mã định danh {identifier.kind.value} (cho phép: {allowed})",
                    f"profile {self.name} does not allow a {identifier.kind.value} identifier (allowed: {allowed})",
                )
            if not IDENTIFIER_FORMATS[identifier.kind].fullmatch(identifier.value):
                raise SubjectViolation(
                    f"mã {identifier.kind.value} {identifier.value!r} sai định dạng",
                    f"{identifier.kind.value} identifier {identifier.value!r} is malformed",
                )
            found.append(identifier)
        if self.identifiers and not found:
            wanted = ", ".join(f"{k.value}:" for k in self.identifiers)
            raise SubjectViolation(
                f"hồ sơ {self.name} yêu cầu mã định danh ({wanted})",
                f"profile {self.name} requires an identifier ({wanted})",
            )


@dataclass(frozen=True)
class ProfileSet:
    profiles: dict[str, CertificateProfile]
    keys: KeyRequirements

    def get(self, name: str) -> CertificateProfile:
        try:
            return self.profiles[name]
        except KeyError:
            known = ", ".join(sorted(self.profiles))
            raise UnknownProfile(
                f"không có hồ sơ chứng thư {name!r} (có: {known})",
                f"unknown certificate profile {name!r} (known: {known})",
            ) from None

    def check_public_key(self, public_key: asn1_keys.PublicKeyInfo) -> None:
        """Raise `WeakKey` unless the key is RSA of at least the minimum size or EC on an allowed curve."""
        check_public_key(public_key, self.keys)


def check_public_key(public_key: asn1_keys.PublicKeyInfo, requirements: KeyRequirements) -> None:
    algorithm = public_key.algorithm
    if algorithm == "rsa":
        bits = public_key.bit_size
        if bits < requirements.rsa_min_bits:
            raise WeakKey(
                f"khóa RSA {bits} bit quá yếu (tối thiểu {requirements.rsa_min_bits})",
                f"RSA key of {bits} bits is too weak (minimum {requirements.rsa_min_bits})",
            )
        return
    if algorithm == "ec":
        try:
            curve = public_key.curve[1]
        except ValueError:  # explicit parameters instead of a named curve
            curve = "explicit parameters"
        if curve not in requirements.ec_curves:
            allowed = ", ".join(requirements.ec_curves)
            raise WeakKey(
                f"đường cong EC {curve} không được phép (cho phép: {allowed})",
                f"EC curve {curve} is not allowed (allowed: {allowed})",
            )
        return
    raise WeakKey(
        f"thuật toán khóa {algorithm} không được phép (chỉ RSA hoặc EC)",
        f"key algorithm {algorithm} is not allowed (RSA or EC only)",
    )


_PROFILE_KEYS = {
    "description", "holder", "key_usage", "extended_key_usage", "certificate_policies", "max_validity_days",
    "required_attributes", "allowed_attributes", "identifiers", "revocation_pointers", "is_ca",
    "path_length", "extended_key_usage_critical", "ocsp_no_check", "max_renewal_days",
}


def parse_profiles(text: str) -> ProfileSet:
    """Read a profile file (TOML). Unknown keys are errors naming the key (deny by default)."""
    data = tomllib.loads(text)
    unknown = sorted(set(data) - {"profiles", "keys"})
    if unknown:
        raise ValueError(f"certificate profiles: unknown section(s) {', '.join(unknown)}")
    profiles = {}
    for name, entry in data.get("profiles", {}).items():
        extra = sorted(set(entry) - _PROFILE_KEYS)
        if extra:
            raise ValueError(f"certificate profile {name}: unknown key(s) {', '.join(extra)}")
        profiles[name] = CertificateProfile(
            name=name,
            description=entry["description"],
            holder=ProfileHolder(entry["holder"]),
            key_usage=tuple(entry["key_usage"]),
            extended_key_usage=tuple(entry.get("extended_key_usage", ())),
            certificate_policies=tuple(entry.get("certificate_policies", ())),
            max_validity_days=int(entry["max_validity_days"]),
            required_attributes=tuple(entry["required_attributes"]),
            allowed_attributes=tuple(entry["allowed_attributes"]),
            identifiers=tuple(IdentifierKind(i) for i in entry.get("identifiers", ())),
            revocation_pointers=bool(entry["revocation_pointers"]),
            is_ca=bool(entry.get("is_ca", False)),
            path_length=entry.get("path_length"),
            extended_key_usage_critical=bool(entry.get("extended_key_usage_critical", False)),
            ocsp_no_check=bool(entry.get("ocsp_no_check", False)),
            max_renewal_days=entry.get("max_renewal_days"),
        )
    keys = data.get("keys", {})
    extra = sorted(set(keys) - {"rsa_min_bits", "ec_curves"})
    if extra:
        raise ValueError(f"certificate profiles [keys]: unknown key(s) {', '.join(extra)}")
    return ProfileSet(
        profiles=profiles,
        keys=KeyRequirements(
            rsa_min_bits=int(keys.get("rsa_min_bits", 2048)),
            ec_curves=tuple(keys.get("ec_curves", ("secp256r1", "secp384r1", "secp521r1"))),
        ),
    )


@lru_cache(maxsize=1)
def default_profiles() -> ProfileSet:
    """The profiles shipped with kyso (policies/data/certificate-profiles.toml)."""
    text = resources.files("policies").joinpath("data/certificate-profiles.toml").read_text("utf-8")
    return parse_profiles(text)
