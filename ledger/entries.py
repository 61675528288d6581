"""What the ledger records: values in (`LedgerEntry`), values out (`LedgerRecord`), and their canonical form.

A record's hash is SHA-256 over the previous record's hash (32 bytes) followed by the canonical JSON of the
record's content (sorted keys, no spaces, UTF-8). The content includes the record id and its recording
time; the sequence number is where the record is stored, the hash links are what order the chain.
"""

from __future__ import annotations

import enum
import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone

from ledger.errors import InvalidValue


class RecordEvent(enum.Enum):
    SIGNED = "signed"  # a signature made through the service
    VERIFIED = "verified"  # a signature verified on an incoming document
    CORRECTION = "correction"  # supersedes an earlier record (named in `corrects`); the old one stays
    COVERED = "covered"  # the digest of a document, final number or signed-file row (ledger.covered), not a signature


class SignatureKind(enum.Enum):
    """The verifier's kinds (DESIGN.md `kyso verify` contract)."""

    PERSONAL = "personal"
    AGENCY = "agency"
    TIMESTAMP = "timestamp"
    PACKAGE = "package"  # the XML signature of an edXML package (QCVN 102:2016/BTTTT)
    UNKNOWN = "unknown"


class TimeSource(enum.Enum):
    """DOMAIN.md: the RFC 3161 timestamp's genTime when there is one, else the self-declared time."""

    TIMESTAMP = "timestamp"
    CLAIMED = "claimed"


class Indication(enum.Enum):
    """ETSI EN 319 102-1 main indications."""

    TOTAL_PASSED = "TOTAL_PASSED"
    TOTAL_FAILED = "TOTAL_FAILED"
    INDETERMINATE = "INDETERMINATE"


PURPOSES = frozenset({"approve", "issue", "appendix", "copy", "incoming"})  # Decree 30 kinds of signing
_HEX = re.compile(r"^[0-9a-f]+$")


def normalise_serial(serial: int | str) -> str:
    """Certificate serials as lowercase hex without leading zeros (an int, or hex with or without colons)."""
    if isinstance(serial, int):
        if serial < 0:
            raise InvalidValue("số sê-ri âm", "negative certificate serial")
        return format(serial, "x")
    text = str(serial).strip().lower().replace(":", "")
    if text.startswith("0x"):
        text = text[2:]
    if not text or not _HEX.match(text) or len(text) > 64:
        raise InvalidValue(f"số sê-ri chứng thư không hợp lệ: {serial!r}", f"invalid certificate serial: {serial!r}")
    return text.lstrip("0") or "0"


def format_time(value: datetime) -> str:
    """UTC, microseconds, `Z`: the one textual form of a time inside a hashed record."""
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise InvalidValue(
            f"thời điểm phải kèm múi giờ: {value!r}", f"a time must carry its UTC offset: {value!r}"
        )
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)


@dataclass(frozen=True)
class LedgerEntry:
    """A signature to record. Validated when built; `ledger.chain.append` gives it a place in the chain."""

    event: RecordEvent
    agency_code: str
    signature_kind: SignatureKind
    certificate_serial: str
    signer_name: str
    signed_digest: str  # hex digest of the signed revision (SHA-256 unless longer)
    signing_time: datetime
    signing_time_source: TimeSource
    indication: Indication
    sub_indication: str | None = None
    signer_identifiers: tuple[str, ...] = ()
    document_id: int | None = None
    purpose: str | None = None  # approve | issue | appendix | copy | incoming
    corrects: str | None = None  # record_id of the record this one corrects
    note: str | None = None  # the reason of a correction, free text

    def __post_init__(self):
        for name, kind in (
            ("event", RecordEvent),
            ("signature_kind", SignatureKind),
            ("signing_time_source", TimeSource),
            ("indication", Indication),
        ):
            value = getattr(self, name)
            if not isinstance(value, kind):
                try:
                    object.__setattr__(self, name, kind(value))
                except ValueError:
                    allowed = ", ".join(k.value for k in kind)
                    raise InvalidValue(
                        f"{name} không hợp lệ: {value!r} (cho phép: {allowed})",
                        f"invalid {name}: {value!r} (allowed: {allowed})",
                    ) from None
        if not self.agency_code or not str(self.agency_code).strip():
            raise InvalidValue("thiếu mã cơ quan", "agency_code is empty")
        object.__setattr__(self, "certificate_serial", normalise_serial(self.certificate_serial))
        digest = str(self.signed_digest).strip().lower()
        if len(digest) not in (64, 96, 128) or not _HEX.match(digest):
            raise InvalidValue(
                f"giá trị băm của bản đã ký phải là hex SHA-256/384/512: {self.signed_digest!r}",
                f"signed_digest must be a hex SHA-256/384/512 digest: {self.signed_digest!r}",
            )
        object.__setattr__(self, "signed_digest", digest)
        format_time(self.signing_time)
        if not self.signer_name or not self.signer_name.strip():
            raise InvalidValue("thiếu tên người ký", "signer_name is empty")
        for name, limit in (("agency_code", 40), ("signer_name", 300), ("sub_indication", 48), ("corrects", 32)):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, str) or len(value) > limit):
                raise InvalidValue(f"{name} không phải chuỗi hoặc dài quá {limit} ký tự",
                                   f"{name} is not text or longer than {limit} characters")
        object.__setattr__(self, "signer_identifiers", tuple(str(i) for i in self.signer_identifiers))
        if any(";" in i for i in self.signer_identifiers):
            raise InvalidValue("mã định danh không được chứa ';'", "an identifier may not contain ';'")
        if self.purpose is not None and self.purpose not in PURPOSES:
            raise InvalidValue(
                f"loại ký không hợp lệ: {self.purpose!r}", f"invalid purpose: {self.purpose!r} ({', '.join(sorted(PURPOSES))})"
            )
        if (self.event is RecordEvent.CORRECTION) != (self.corrects is not None):
            raise InvalidValue(
                "bản ghi đính chính phải (và chỉ nó) nêu bản ghi được đính chính",
                "a correction (and only a correction) names the record it corrects",
            )
        if self.document_id is not None and (not isinstance(self.document_id, int) or isinstance(self.document_id, bool)):
            raise InvalidValue(f"mã văn bản phải là số nguyên: {self.document_id!r}", f"document_id must be an integer: {self.document_id!r}")


@dataclass(frozen=True)
class LedgerRecord:
    """A record as stored: the entry's fields as hashed text, its place and its hashes."""

    seq: int
    record_id: str
    recorded_at: str
    event: str
    document_id: int | None
    agency_code: str
    signature_kind: str
    purpose: str | None
    certificate_serial: str
    signer_name: str
    signer_identifiers: str  # ";"-joined
    signed_digest: str
    signing_time: str
    signing_time_source: str
    indication: str
    sub_indication: str | None
    corrects: str | None
    note: str | None
    prev_hash: str
    hash: str = field(default="")
    covers: str | None = None  # the row a COVERED record covers, e.g. "document:7" (hashed only when set)

    HASHED = (
        "record_id",
        "recorded_at",
        "event",
        "document_id",
        "agency_code",
        "signature_kind",
        "purpose",
        "certificate_serial",
        "signer_name",
        "signer_identifiers",
        "signed_digest",
        "signing_time",
        "signing_time_source",
        "indication",
        "sub_indication",
        "corrects",
        "note",
    )

    @classmethod
    def from_row(cls, row) -> "LedgerRecord":
        return cls(**{name: getattr(row, name) for name in cls.__dataclass_fields__})

    def to_json(self) -> dict:
        data = {name: getattr(self, name) for name in self.__dataclass_fields__}
        data["signer_identifiers"] = self.signer_identifiers.split(";") if self.signer_identifiers else []
        return data


def content_of(entry: LedgerEntry, *, record_id: str, recorded_at: datetime) -> dict:
    """The hashed content of a new record, as the text values stored in the database."""
    return {
        "record_id": record_id,
        "recorded_at": format_time(recorded_at),
        "event": entry.event.value,
        "document_id": entry.document_id,
        "agency_code": entry.agency_code,
        "signature_kind": entry.signature_kind.value,
        "purpose": entry.purpose,
        "certificate_serial": entry.certificate_serial,
        "signer_name": entry.signer_name,
        "signer_identifiers": ";".join(entry.signer_identifiers),
        "signed_digest": entry.signed_digest,
        "signing_time": format_time(entry.signing_time),
        "signing_time_source": entry.signing_time_source.value,
        "indication": entry.indication.value,
        "sub_indication": entry.sub_indication,
        "corrects": entry.corrects,
        "note": entry.note,
    }


def canonical_bytes(content: dict) -> bytes:
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def record_hash(prev_hash: str, content: dict) -> str:
    """SHA-256(previous hash bytes || canonical JSON of the content)."""
    return hashlib.sha256(bytes.fromhex(prev_hash) + canonical_bytes(content)).hexdigest()


def hash_of_row(row) -> str:
    """Recompute the hash of a stored record (a row or a LedgerRecord) from its stored fields."""
    content = {name: getattr(row, name) for name in LedgerRecord.HASHED}
    # `covers` joined the hashed content with covered rows (migration 0004): present only when set, so the
    # records written before keep their hashes.
    covers = getattr(row, "covers", None)
    if covers is not None:
        content["covers"] = covers
    return record_hash(row.prev_hash, content)
