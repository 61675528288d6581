"""The service's own tables: users, API keys, signing sessions, registered document files, audit events.

The ledger, the CA and the roster keep their own tables (and their own Alembic version tables); these are
only what the service itself needs. Created and upgraded by the migrations in service/migrations/
(version table `service_alembic_version`), never by `create_all` outside tests of the migrations.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    DateTime,
    Float,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UtcDateTime(TypeDecorator):
    """Aware datetimes in, aware UTC datetimes out, on SQLite (which drops the offset) and PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UtcDateTime column")
        return value.astimezone(dt.timezone.utc)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.timezone.utc)
        return value.astimezone(dt.timezone.utc)


class Base(DeclarativeBase):
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(table_name)s_%(column_0_name)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


class User(Base):
    __tablename__ = "service_users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    # hashlib.scrypt (RFC 7914), "scrypt$n$r$p$salt-hex$hash-hex"
    password_hash: Mapped[str] = mapped_column(String(300))
    roles: Mapped[str] = mapped_column(String(200))  # comma-separated Role values
    agency_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # The roster official (ledger_officials.id) this account is, for an official's own signature image.
    official_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())


class ApiKey(Base):
    __tablename__ = "service_api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    # The key is shown once; only its public prefix (for lookup) and SHA-256 are kept.
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    key_sha256: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[str] = mapped_column(String(300))
    agency_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class DocumentFile(Base):
    """The current bytes of a registered document (its latest signed revision), keyed by its ledger id."""

    __tablename__ = "service_document_files"

    document_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    filename: Mapped[str] = mapped_column(String(255))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    revision: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())


class SigningSession(Base):
    __tablename__ = "service_signing_sessions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    principal: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(20))
    document_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # The revision of the document file the session was prepared on: completion refuses a moved document.
    document_revision: Mapped[int | None] = mapped_column(Integer, nullable=True)
    filename: Mapped[str] = mapped_column(String(255))
    certificate: Mapped[bytes] = mapped_column(LargeBinary)
    digest: Mapped[bytes] = mapped_column(LargeBinary)
    digest_algorithm: Mapped[str] = mapped_column(String(16))
    signature_algorithm: Mapped[str] = mapped_column(String(32))
    description: Mapped[str] = mapped_column(Text)
    # The signer's serialised prepare state (the document with its reserved signature).
    state: Mapped[bytes] = mapped_column(LargeBinary)
    fields: Mapped[str] = mapped_column(Text, default="{}")
    status: Mapped[str] = mapped_column(String(16))  # prepared | completed | failed
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    completed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    result: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    result_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    ledger_record: Mapped[str | None] = mapped_column(String(64), nullable=True)


class AuditEvent(Base):
    """Every write and every refusal: who, what, on which target, the outcome. Never a PIN or a key."""

    __tablename__ = "service_audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    actor: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(60))
    target: Mapped[str | None] = mapped_column(String(200), nullable=True)
    outcome: Mapped[str] = mapped_column(String(40))
    detail: Mapped[str] = mapped_column(Text, default="{}")
    remote_addr: Mapped[str | None] = mapped_column(String(64), nullable=True)


class Validation(Base):
    """One validation through the API: the report in both languages, and the receipt once made."""

    __tablename__ = "service_validations"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    principal: Mapped[str] = mapped_column(String(120))
    filename: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    indication: Mapped[str] = mapped_column(String(32))
    report_en: Mapped[str] = mapped_column(Text)
    report_vi: Mapped[str] = mapped_column(Text)
    document_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    returned: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    receipt: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)


class StampImageRow(Base):
    """A stored stamp image (Decree 30): an official's handwritten signature (owner_kind "official", owner the
    roster official id) or an agency's seal (owner_kind "agency", owner the agency code, with its diameter)."""

    __tablename__ = "service_stamp_images"

    owner_kind: Mapped[str] = mapped_column(String(16), primary_key=True)  # official | agency
    owner: Mapped[str] = mapped_column(String(64), primary_key=True)
    png: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    diameter_mm: Mapped[float | None] = mapped_column(Float, nullable=True)
    updated_by: Mapped[str] = mapped_column(String(120))
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())


class LoginSession(Base):
    """A person's logged-in session. The cookie carries only a random session id; the row keeps its SHA-256
    (a copy of the table does not give working cookies). Logout, a password change and deactivation revoke
    it, so an old cookie stops working at once."""

    __tablename__ = "service_login_sessions"

    id_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer, index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    revoked_reason: Mapped[str | None] = mapped_column(String(32), nullable=True)  # logout | password | deactivated


class LoginThrottle(Base):
    """Failed logins of one account or one client address. The subject is a keyed hash, never the typed
    username (a password typed into the username box must not be stored)."""

    __tablename__ = "service_login_throttles"

    subject: Mapped[str] = mapped_column(String(80), primary_key=True)  # "account:<hmac>" | "address:<hmac>"
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    locked_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime(), nullable=True)
