"""Building and signing X.509 certificates under a profile (RFC 5280).

The authority decides what may be signed (a `CertificateTemplate`, checked against its profile before it
gets here); this module only turns the decision into a `TBSCertificate` and has the issuer's key sign it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache

from asn1crypto import keys as asn1_keys
from asn1crypto import x509

from ca import der
from ca.endpoints import PkiEndpoints
from ca.signing import sign_bytes, signature_parameters
from policies.keys import DigestSigner
from policies.profiles import CertificateProfile


@dataclass(frozen=True)
class Issuer:
    """A CA that signs: its short name (used in URLs), its certificate and its key (a `DigestSigner`)."""

    name: str
    certificate: x509.Certificate
    key: DigestSigner
    chain: tuple[x509.Certificate, ...] = ()  # the issuer's own issuers, up to and including the root

    @property
    def subject(self) -> x509.Name:
        return self.certificate.subject

    @property
    def key_identifier(self) -> bytes:
        return self.certificate.key_identifier or key_identifier(self.certificate.public_key)

    def __repr__(self) -> str:
        return f"Issuer({self.name!r}, {self.certificate.subject.human_friendly!r})"


@dataclass(frozen=True)
class CertificateTemplate:
    """Everything that goes into one certificate, decided by the authority."""

    subject: x509.Name
    public_key: asn1_keys.PublicKeyInfo
    profile: CertificateProfile
    serial_number: int
    not_before: datetime
    not_after: datetime


def key_identifier(public_key: asn1_keys.PublicKeyInfo) -> bytes:
    """RFC 5280 section 4.2.1.2 method 1: SHA-1 of the subjectPublicKey bits."""
    return hashlib.sha1(public_key["public_key"].contents[1:]).digest()


def x509_time(moment: datetime) -> x509.Time:
    """UTCTime through 2049, GeneralizedTime from 2050 (RFC 5280 section 4.1.2.5)."""
    moment = moment.astimezone(timezone.utc).replace(microsecond=0)
    if moment.year < 2050:
        return x509.Time(name="utc_time", value=moment)
    return x509.Time(name="general_time", value=moment)


def _extension(name: str, value, *, critical: bool = False) -> x509.Extension:
    return x509.Extension({"extn_id": name, "critical": critical, "extn_value": value})


def build_extensions(
    template: CertificateTemplate,
    *,
    issuer_key_identifier: bytes,
    issuer_name: str,
    endpoints: PkiEndpoints | None,
) -> list[x509.Extension]:
    """The extensions the profile asks for; only the subject key identifier depends on the request."""
    static = [
        x509.Extension.load(der)
        for der in _profile_extensions_der(template.profile, issuer_key_identifier, issuer_name, endpoints)
    ]
    subject_key_id = _extension("key_identifier", key_identifier(template.public_key))
    return [*static[:2], subject_key_id, *static[2:]]


# Building extensions from values makes asn1crypto encode every nested field (a third of an issuance);
# everything but the subject key identifier depends only on the profile and the issuer, so it is encoded
# once per (profile, issuer, endpoints) and reloaded from DER.
@lru_cache(maxsize=64)
def _profile_extensions_der(
    profile: CertificateProfile, issuer_key_identifier: bytes, issuer_name: str, endpoints: PkiEndpoints | None
) -> tuple[bytes, ...]:
    extensions = [
        _extension(
            "basic_constraints",
            {"ca": profile.is_ca, "path_len_constraint": profile.path_length if profile.is_ca else None},
            critical=True,
        ),
        _extension("key_usage", set(profile.key_usage), critical=True),
        _extension("authority_key_identifier", {"key_identifier": issuer_key_identifier}),
    ]
    if profile.extended_key_usage:
        extensions.append(
            _extension(
                "extended_key_usage",
                list(profile.extended_key_usage),
                critical=profile.extended_key_usage_critical,
            )
        )
    if profile.certificate_policies:
        extensions.append(
            _extension(
                "certificate_policies",
                [{"policy_identifier": oid} for oid in profile.certificate_policies],
            )
        )
    if profile.revocation_pointers and endpoints is not None:
        extensions.append(
            _extension(
                "crl_distribution_points",
                [
                    {
                        "distribution_point": x509.DistributionPointName(
                            name="full_name",
                            value=[x509.GeneralName(name="uniform_resource_identifier",
                                                    value=endpoints.crl_url(issuer_name))],
                        )
                    }
                ],
            )
        )
        extensions.append(
            _extension(
                "authority_information_access",
                [
                    {"access_method": "ocsp",
                     "access_location": x509.GeneralName(name="uniform_resource_identifier",
                                                         value=endpoints.ocsp_url)},
                    {"access_method": "ca_issuers",
                     "access_location": x509.GeneralName(name="uniform_resource_identifier",
                                                         value=endpoints.certificate_url(issuer_name))},
                ],
            )
        )
    if profile.ocsp_no_check:
        extensions.append(_extension("ocsp_no_check", None))
    return tuple(extension.dump() for extension in extensions)


def sign_certificate(
    template: CertificateTemplate,
    *,
    issuer: Issuer | None,
    self_signing_key: DigestSigner | None = None,
    endpoints: PkiEndpoints | None = None,
    issuer_name: str = "",
) -> x509.Certificate:
    """Sign `template` with `issuer` (or self-sign with `self_signing_key` for a root)."""
    if issuer is None:
        if self_signing_key is None:
            raise ValueError("a self-signed certificate needs self_signing_key")
        key = self_signing_key
        issuer_subject = template.subject
        issuer_kid = key_identifier(template.public_key)
    else:
        key = issuer.key
        issuer_subject = issuer.subject
        issuer_kid = issuer.key_identifier
        issuer_name = issuer.name
    parameters = signature_parameters(key.public_key_info())
    extensions = build_extensions(
        template, issuer_key_identifier=issuer_kid, issuer_name=issuer_name, endpoints=endpoints
    )
    # RFC 5280 4.1: the TBSCertificate joined from DER parts (asn1crypto re-encoding every nested field cost
    # two thirds of an issuance); tests/unit/ca/test_certificate_der.py compares it with asn1crypto's bytes.
    algorithm_der = parameters.algorithm_identifier.dump()
    tbs = der.sequence(
        _VERSION_3,
        der.integer(template.serial_number),
        algorithm_der,
        issuer_subject.dump(),
        der.sequence(x509_time(template.not_before).dump(), x509_time(template.not_after).dump()),
        template.subject.dump(),
        template.public_key.dump(),
        der.tlv(0xA3, der.sequence(*(extension.dump() for extension in extensions))),
    )
    signature = sign_bytes(key, tbs, parameters)
    return x509.Certificate.load(der.sequence(tbs, algorithm_der, der.tlv(0x03, b"\x00", signature)))


_VERSION_3 = der.explicit(0, der.integer(2))  # [0] EXPLICIT Version v3
