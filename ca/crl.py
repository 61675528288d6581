"""Certificate revocation lists (RFC 5280 section 5), built from values and signed by the CA key."""

from __future__ import annotations

from datetime import datetime
from typing import Iterable

from asn1crypto import crl as asn1_crl

from ca.certificates import Issuer, x509_time
from ca.revocation import RevokedEntry
from ca.signing import sign_bytes, signature_parameters


def build_crl(
    issuer: Issuer,
    *,
    number: int,
    this_update: datetime,
    next_update: datetime,
    revoked: Iterable[RevokedEntry],
) -> asn1_crl.CertificateList:
    """A v2 CRL with cRLNumber and authorityKeyIdentifier; each entry carries its reasonCode."""
    entries = []
    for entry in revoked:
        item = {"user_certificate": entry.serial_number, "revocation_date": x509_time(entry.revoked_at)}
        # RFC 5280 5.3.1: omit reasonCode rather than write `unspecified`.
        if entry.reason.value != "unspecified":
            item["crl_entry_extensions"] = [
                {"extn_id": "crl_reason", "critical": False, "extn_value": entry.reason.value}
            ]
        entries.append(item)
    parameters = signature_parameters(issuer.key.public_key_info())
    tbs = asn1_crl.TbsCertList(
        {
            "version": "v2",
            "signature": parameters.algorithm_identifier,
            "issuer": issuer.subject,
            "this_update": x509_time(this_update),
            "next_update": x509_time(next_update),
            "revoked_certificates": entries or None,
            "crl_extensions": [
                {"extn_id": "crl_number", "critical": False, "extn_value": number},
                {
                    "extn_id": "authority_key_identifier",
                    "critical": False,
                    "extn_value": {"key_identifier": issuer.key_identifier},
                },
            ],
        }
    )
    signature = sign_bytes(issuer.key, tbs.dump(), parameters)
    crl = asn1_crl.CertificateList(
        {"tbs_cert_list": tbs, "signature_algorithm": parameters.algorithm_identifier, "signature": signature}
    )
    return asn1_crl.CertificateList.load(crl.dump())
