"""Validation reports: frozen values with ETSI EN 319 102-1 indications, serialised to JSON and text.

The JSON shape is the `kyso verify` contract of DESIGN.md: `{"files": [{"path", "indication", "signatures":
[{"field", "kind", "indication", "sub_indication", "signer", "signing_time", "signing_time_source",
"trust_anchor", "modifications", "messages"}]}]}`, with more keys added, never removed.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from policies.identity import Identity
from verifier.errors import NotPassed

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")


class Indication(enum.Enum):
    """ETSI EN 319 102-1, 5.1.3 (plus NO_SIGNATURE_FOUND for a file without any signature)."""

    TOTAL_PASSED = "TOTAL_PASSED"
    TOTAL_FAILED = "TOTAL_FAILED"
    INDETERMINATE = "INDETERMINATE"
    NO_SIGNATURE_FOUND = "NO_SIGNATURE_FOUND"


class SubIndication(enum.Enum):
    """ETSI EN 319 102-1, table 5 (TOTAL_FAILED and INDETERMINATE sub-indications)."""

    FORMAT_FAILURE = "FORMAT_FAILURE"
    HASH_FAILURE = "HASH_FAILURE"
    SIG_CRYPTO_FAILURE = "SIG_CRYPTO_FAILURE"
    REVOKED = "REVOKED"
    EXPIRED = "EXPIRED"
    NOT_YET_VALID = "NOT_YET_VALID"
    SIG_CONSTRAINTS_FAILURE = "SIG_CONSTRAINTS_FAILURE"
    CHAIN_CONSTRAINTS_FAILURE = "CHAIN_CONSTRAINTS_FAILURE"
    CERTIFICATE_CHAIN_GENERAL_FAILURE = "CERTIFICATE_CHAIN_GENERAL_FAILURE"
    CRYPTO_CONSTRAINTS_FAILURE = "CRYPTO_CONSTRAINTS_FAILURE"
    CRYPTO_CONSTRAINTS_FAILURE_NO_POE = "CRYPTO_CONSTRAINTS_FAILURE_NO_POE"
    POLICY_PROCESSING_ERROR = "POLICY_PROCESSING_ERROR"
    TIMESTAMP_ORDER_FAILURE = "TIMESTAMP_ORDER_FAILURE"
    NO_SIGNING_CERTIFICATE_FOUND = "NO_SIGNING_CERTIFICATE_FOUND"
    NO_CERTIFICATE_CHAIN_FOUND = "NO_CERTIFICATE_CHAIN_FOUND"
    REVOKED_NO_POE = "REVOKED_NO_POE"
    REVOKED_CA_NO_POE = "REVOKED_CA_NO_POE"
    OUT_OF_BOUNDS_NO_POE = "OUT_OF_BOUNDS_NO_POE"
    OUT_OF_BOUNDS_NOT_REVOKED = "OUT_OF_BOUNDS_NOT_REVOKED"
    NO_POE = "NO_POE"
    TRY_LATER = "TRY_LATER"
    SIGNED_DATA_NOT_FOUND = "SIGNED_DATA_NOT_FOUND"


class SignatureKind(enum.Enum):
    """Whose signature it is, from the certificate profile (policies.identity)."""

    PERSONAL = "personal"
    AGENCY = "agency"
    TIMESTAMP = "timestamp"  # a document timestamp (PAdES B-LTA)
    PACKAGE = "package"  # the XML-DSig of an edXML package (QCVN 102:2016/BTTTT), judged by edxml
    UNKNOWN = "unknown"


class Modifications(enum.Enum):
    NONE = "none"
    ALLOWED = "allowed"
    DISALLOWED = "disallowed"


class TimeSource(enum.Enum):
    TIMESTAMP = "timestamp"  # RFC 3161 genTime: proven
    CLAIMED = "claimed"  # signingTime attribute or /M: self-declared
    NONE = "none"


class Severity(enum.Enum):
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


LIMIT_MESSAGE = "format.limit-exceeded"  # a file refused by `policies.pdf_limits` (callers may answer 422)


@dataclass(frozen=True)
class Message:
    """A fact or finding a person reads, in both languages, with a stable code for machines."""

    code: str
    en: str
    vi: str
    severity: Severity = Severity.INFO

    def text(self, lang: str) -> str:
        return self.vi if lang == "vi" else self.en


@dataclass(frozen=True)
class RevocationEvidence:
    """One piece of revocation data used: what, about which certificate, from where, produced when."""

    kind: str  # "crl" or "ocsp"
    source: str  # "document" (DSS / CMS), "fetched" (HTTP), "given" (configured)
    certificate: str  # subject of the certificate whose status it gives
    issuer: str
    produced_at: datetime | None
    url: str | None = None

    def to_json(self) -> dict:
        return {"kind": self.kind, "source": self.source, "certificate": self.certificate,
                "issuer": self.issuer, "produced_at": iso(self.produced_at), "url": self.url}


@dataclass(frozen=True)
class TimestampInfo:
    """The RFC 3161 timestamp of a signature (or the document timestamp itself)."""

    tsa: str
    gen_time: datetime
    intact: bool
    trusted: bool

    def to_json(self) -> dict:
        return {"tsa": self.tsa, "gen_time": iso(self.gen_time), "intact": self.intact,
                "trusted": self.trusted}


@dataclass(frozen=True)
class SignatureReport:
    field: str
    kind: SignatureKind
    indication: Indication
    sub_indication: SubIndication | None
    signer: Identity | None
    certificate_sha256: str | None
    signing_time: datetime | None
    signing_time_source: TimeSource
    claimed_time: datetime | None
    timestamp: TimestampInfo | None
    trust_anchor: str | None
    revocation: tuple[RevocationEvidence, ...]
    coverage: str  # "entire_file", "entire_revision", "partial", "unclear"
    modifications: Modifications
    change: str | None  # the change named when modifications are not none
    digest_algorithm: str | None
    signature_algorithm: str | None
    messages: tuple[Message, ...] = ()
    revision: int | None = None

    def __post_init__(self) -> None:
        if self.indication is Indication.NO_SIGNATURE_FOUND:
            raise ValueError("a signature's indication cannot be NO_SIGNATURE_FOUND")
        # ETSI EN 319 102-1 gives every TOTAL_FAILED a sub-indication and none to TOTAL_PASSED. INDETERMINATE
        # without one is our own "internal error" (no ETSI sub-indication names a validator's failure).
        if self.indication is Indication.TOTAL_PASSED and self.sub_indication is not None:
            raise ValueError("a sub-indication goes with TOTAL_FAILED or INDETERMINATE, and only with them")
        if self.indication is Indication.TOTAL_FAILED and self.sub_indication is None:
            raise ValueError("a TOTAL_FAILED signature needs its sub-indication")

    @property
    def passed(self) -> bool:
        return self.indication is Indication.TOTAL_PASSED

    def to_json(self, lang: str = "en") -> dict:
        return {
            "field": self.field,
            "kind": self.kind.value,
            "indication": self.indication.value,
            "sub_indication": self.sub_indication.value if self.sub_indication else None,
            "signer": self.signer.to_json() if self.signer else None,
            "signing_time": iso(self.signing_time),
            "signing_time_source": self.signing_time_source.value,
            "trust_anchor": self.trust_anchor,
            "modifications": self.modifications.value,
            "messages": [m.text(lang) for m in self.messages],
            "change": self.change,
            "claimed_time": iso(self.claimed_time),
            "timestamp": self.timestamp.to_json() if self.timestamp else None,
            "revocation": [r.to_json() for r in self.revocation],
            "coverage": self.coverage,
            "certificate_sha256": self.certificate_sha256,
            "digest_algorithm": self.digest_algorithm,
            "signature_algorithm": self.signature_algorithm,
            "revision": self.revision,
            "codes": [m.code for m in self.messages],
        }


@dataclass(frozen=True)
class FileReport:
    path: str
    indication: Indication
    signatures: tuple[SignatureReport, ...]
    sub_indication: SubIndication | None = None  # only for a file-level failure (FORMAT_FAILURE)
    messages: tuple[Message, ...] = field(default=())

    @classmethod
    def of(cls, path: str, signatures: tuple[SignatureReport, ...], messages: tuple[Message, ...] = ()) -> "FileReport":
        """The per-file indication from its signatures: any failure fails the file, then any doubt."""
        if not signatures:
            indication = Indication.NO_SIGNATURE_FOUND
        elif any(s.indication is Indication.TOTAL_FAILED for s in signatures):
            indication = Indication.TOTAL_FAILED
        elif any(s.indication is Indication.INDETERMINATE for s in signatures):
            indication = Indication.INDETERMINATE
        else:
            indication = Indication.TOTAL_PASSED
        return cls(path, indication, signatures, None, messages)

    @classmethod
    def format_failure(cls, path: str, message: Message) -> "FileReport":
        """A file that is not a readable PDF / CMS signature: TOTAL_FAILED / FORMAT_FAILURE, not a crash."""
        return cls(path, Indication.TOTAL_FAILED, (), SubIndication.FORMAT_FAILURE, (message,))

    @classmethod
    def internal_error(cls, path: str, message: Message) -> "FileReport":
        """Our own failure while judging the file: INDETERMINATE, never a verdict on the document."""
        return cls(path, Indication.INDETERMINATE, (), None, (message,))

    @property
    def passed(self) -> bool:
        return self.indication is Indication.TOTAL_PASSED

    @property
    def limit_refusal(self) -> "Message | None":
        """The message of a file refused by `policies.pdf_limits` (nothing of it was judged), or None."""
        return next((m for m in self.messages if m.code == LIMIT_MESSAGE), None)

    def require_passed(self) -> "FileReport":
        """A gate for callers that need yes or no: raises `NotPassed` unless TOTAL_PASSED."""
        if not self.passed:
            reasons = [m.en for m in self.messages] + [
                f"{s.field}: {s.indication.value}/{s.sub_indication.value if s.sub_indication else '-'}"
                for s in self.signatures if not s.passed
            ]
            raise NotPassed(self, f"{self.path}: {self.indication.value} ({'; '.join(reasons)})")
        return self

    def to_json(self, lang: str = "en") -> dict:
        return {
            "path": self.path,
            "indication": self.indication.value,
            "sub_indication": self.sub_indication.value if self.sub_indication else None,
            "signatures": [s.to_json(lang) for s in self.signatures],
            "messages": [m.text(lang) for m in self.messages],
        }


def iso(moment: datetime | None) -> str | None:
    # DOMAIN.md: times in ISO 8601 with the Vietnam offset, never without an offset.
    return moment.astimezone(VIETNAM).isoformat() if moment is not None else None
