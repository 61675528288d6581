"""SQLAlchemy 2 models of the ledger's tables (all prefixed `ledger_`; migrations in ledger/migrations/).

Times are stored in UTC; months are cut in Asia/Ho_Chi_Minh by the report, never here. Ledger records keep
their hashed fields as text exactly as they were hashed, so that re-hashing needs no database-specific
round-trip of datetimes.
"""

from __future__ import annotations

from datetime import date, datetime, timezone

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator):
    """An aware datetime stored as UTC (naive in SQLite, timestamptz in PostgreSQL), read back aware."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the ledger; pass an aware datetime")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Level(Base):
    """An administrative level (city, district, commune) and the period it exists in (DOMAIN.md)."""

    __tablename__ = "ledger_levels"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32))
    rank: Mapped[int] = mapped_column(Integer)  # display order: city 1, district 2, commune 3
    name_vi: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)  # last day it exists, inclusive
    __table_args__ = (UniqueConstraint("code", "valid_from", name="uq_ledger_levels_code_from"),)


class Target(Base):
    """A target of one metric for one level over a period (city plan, national programme)."""

    __tablename__ = "ledger_targets"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    level_code: Mapped[str] = mapped_column(String(32))
    metric: Mapped[str] = mapped_column(String(40))
    percent: Mapped[float] = mapped_column(Float)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(300))
    __table_args__ = (
        UniqueConstraint("level_code", "metric", "valid_from", name="uq_ledger_targets_level_metric_from"),
    )


class Agency(Base):
    """An agency (cơ quan) of the roster, with its code in both forms (QCVN 102: `000.00.00.G22` and the new one)."""

    __tablename__ = "ledger_agencies"
    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    legacy_code: Mapped[str | None] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    level_code: Mapped[str] = mapped_column(String(32))
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("ledger_agencies.code"))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)


class Official(Base):
    """A person of the roster who must hold a personal certificate (DOMAIN.md: 100% coverage target)."""

    __tablename__ = "ledger_officials"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[str] = mapped_column(String(60), unique=True)  # e.g. "CCCD:001085012345"
    identifiers: Mapped[str] = mapped_column(Text)  # every identifier, ";"-separated
    agency_code: Mapped[str] = mapped_column(ForeignKey("ledger_agencies.code"), index=True)
    full_name: Mapped[str] = mapped_column(String(200))
    title: Mapped[str | None] = mapped_column(String(200))
    active_from: Mapped[date | None] = mapped_column(Date)
    active_until: Mapped[date | None] = mapped_column(Date)


class Certificate(Base):
    """A signing certificate held by an official (personal) or an agency (its seal key)."""

    __tablename__ = "ledger_certificates"
    serial: Mapped[str] = mapped_column(String(64), primary_key=True)  # lowercase hex, no leading zeros
    kind: Mapped[str] = mapped_column(String(16))  # personal | agency
    agency_code: Mapped[str] = mapped_column(ForeignKey("ledger_agencies.code"), index=True)
    official_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_officials.id"), index=True)
    subject: Mapped[str | None] = mapped_column(Text)
    not_before: Mapped[datetime] = mapped_column(UtcDateTime)
    not_after: Mapped[datetime] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    revocation_reason: Mapped[str | None] = mapped_column(String(40))


class Document(Base):
    """An outgoing or incoming document registered by the document management system."""

    __tablename__ = "ledger_documents"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agency_code: Mapped[str] = mapped_column(ForeignKey("ledger_agencies.code"))
    direction: Mapped[str] = mapped_column(String(10))  # outgoing | incoming
    dated_at: Mapped[datetime] = mapped_column(UtcDateTime)  # issue date (outgoing) or receipt (incoming)
    year: Mapped[int] = mapped_column(Integer)  # numbering year, in Vietnam time
    series: Mapped[str] = mapped_column(String(40))
    number: Mapped[int | None] = mapped_column(Integer)
    notation: Mapped[str | None] = mapped_column(String(100))  # ký hiệu, e.g. "QĐ-UBND"
    doc_type: Mapped[str] = mapped_column(String(60))
    title: Mapped[str | None] = mapped_column(Text)
    secret: Mapped[bool] = mapped_column(Boolean)
    electronic: Mapped[bool] = mapped_column(Boolean)  # sent / received over the network, not on paper
    counterpart_code: Mapped[str | None] = mapped_column(String(40))  # sender of an incoming document
    external_id: Mapped[str | None] = mapped_column(String(100))
    returned_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    return_reason: Mapped[str | None] = mapped_column(Text)
    registered_at: Mapped[datetime] = mapped_column(UtcDateTime)
    __table_args__ = (
        # Decree 30, art. 15: numbers are unique per agency and year (per series; secret documents apart).
        UniqueConstraint("agency_code", "year", "series", "number", name="uq_ledger_documents_number"),
        UniqueConstraint("agency_code", "external_id", name="uq_ledger_documents_external_id"),
        Index("ix_ledger_documents_dated_at", "dated_at"),
        Index("ix_ledger_documents_agency_dated", "agency_code", "dated_at"),
    )


class SignedFile(Base):
    """A signed revision of a document, known by the SHA-256 of its bytes."""

    __tablename__ = "ledger_signed_files"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("ledger_documents.id"), index=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    size: Mapped[int] = mapped_column(BigInteger)
    filename: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class NumberCounter(Base):
    """The last number given per agency, year and series (Decree 30: from 01 on 1 January)."""

    __tablename__ = "ledger_number_counters"
    agency_code: Mapped[str] = mapped_column(String(40), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    series: Mapped[str] = mapped_column(String(40), primary_key=True)
    last_number: Mapped[int] = mapped_column(Integer)


class Record(Base):
    """One append-only, hash-chained ledger record. Hashed fields are stored as the exact hashed text."""

    __tablename__ = "ledger_records"
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    record_id: Mapped[str] = mapped_column(String(32), unique=True)
    recorded_at: Mapped[str] = mapped_column(String(40))
    event: Mapped[str] = mapped_column(String(16))
    document_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_documents.id"), index=True)
    agency_code: Mapped[str] = mapped_column(String(40), index=True)
    signature_kind: Mapped[str] = mapped_column(String(16))
    purpose: Mapped[str | None] = mapped_column(String(16))
    certificate_serial: Mapped[str] = mapped_column(String(64))
    signer_name: Mapped[str] = mapped_column(String(300))
    signer_identifiers: Mapped[str] = mapped_column(Text)
    signed_digest: Mapped[str] = mapped_column(String(128))
    signing_time: Mapped[str] = mapped_column(String(40))
    signing_time_source: Mapped[str] = mapped_column(String(16))
    indication: Mapped[str] = mapped_column(String(24))
    sub_indication: Mapped[str | None] = mapped_column(String(48))
    corrects: Mapped[str | None] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    covers: Mapped[str | None] = mapped_column(String(80))  # event "covered": the row covered (ledger.covered)


class ChainHead(Base):
    """The single row that serialises appends and remembers the last record (so a truncated tail shows)."""

    __tablename__ = "ledger_chain_head"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_seq: Mapped[int] = mapped_column(BigInteger)
    last_hash: Mapped[str] = mapped_column(String(64))


class SignedHeadRow(Base):
    """A chain head (seq, hash) signed by the service's seal key when it was appended (ledger.seal)."""

    __tablename__ = "ledger_signed_heads"
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[str] = mapped_column(String(64))
    signed_at: Mapped[datetime] = mapped_column(UtcDateTime)
    key_sha256: Mapped[str] = mapped_column(String(64))
    scheme: Mapped[str] = mapped_column(String(24))
    signature: Mapped[bytes] = mapped_column(LargeBinary)
