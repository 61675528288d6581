"""Revocation reasons and the status of one certificate, shared by CRLs and OCSP (RFC 5280 5.3.1)."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from ca.errors import CaError


class RevocationReason(enum.Enum):
    """RFC 5280 CRLReason; values are asn1crypto's names, `camel` the RFC's spelling."""

    UNSPECIFIED = "unspecified"
    KEY_COMPROMISE = "key_compromise"
    CA_COMPROMISE = "ca_compromise"
    AFFILIATION_CHANGED = "affiliation_changed"
    SUPERSEDED = "superseded"
    CESSATION_OF_OPERATION = "cessation_of_operation"
    CERTIFICATE_HOLD = "certificate_hold"
    PRIVILEGE_WITHDRAWN = "privilege_withdrawn"
    AA_COMPROMISE = "aa_compromise"

    @property
    def camel(self) -> str:
        head, *rest = self.value.split("_")
        return head + "".join(part.capitalize() for part in rest)

    @classmethod
    def parse(cls, text: str) -> "RevocationReason":
        """Accept `keyCompromise`, `key_compromise`, `key-compromise` or `KEY_COMPROMISE`."""
        wanted = text.strip().replace("-", "_")
        for reason in cls:
            if wanted.lower() in (reason.value, reason.camel.lower()):
                return reason
        known = ", ".join(r.camel for r in cls)
        raise CaError(
            f"lý do thu hồi không hợp lệ: {text!r} (hợp lệ: {known})",
            f"unknown revocation reason {text!r} (known: {known})",
        )


class CertificateState(enum.Enum):
    GOOD = "good"
    REVOKED = "revoked"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class CertificateStatus:
    """What the authority knows about one serial of one issuer."""

    state: CertificateState
    revoked_at: datetime | None = None
    reason: RevocationReason | None = None


@dataclass(frozen=True)
class RevokedEntry:
    serial_number: int
    revoked_at: datetime
    reason: RevocationReason
