"""The authority's records, kept with SQLAlchemy: issued certificates, revocations, CRLs, TSA serials.

SQLite is the embedded default, PostgreSQL the production database. The schema is created and upgraded by
Alembic migrations (`ca/migrations`, version table `ca_alembic_version`) applied by `migrate`. Every
SQLAlchemy error is translated into `StorageError` here; uniqueness of serial numbers is a database
constraint (`ca_certificates.serial`, `ca_timestamps.serial`), surfaced as `SerialTaken` so the caller can
draw a new serial.
"""

from __future__ import annotations

import hashlib
import os
import socket
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from asn1crypto import x509
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from ca.errors import StorageError
from ca.revocation import RevocationReason, RevokedEntry

metadata = sa.MetaData()

certificates = sa.Table(
    "ca_certificates",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("serial", sa.String(40), nullable=False, unique=True),
    sa.Column("issuer", sa.String(64), nullable=False),
    sa.Column("profile", sa.String(32), nullable=False),
    sa.Column("subject", sa.Text, nullable=False),
    sa.Column("fingerprint", sa.String(64), nullable=False),
    sa.Column("not_before", sa.DateTime(timezone=True), nullable=False),
    sa.Column("not_after", sa.DateTime(timezone=True), nullable=False),
    sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("der", sa.LargeBinary, nullable=False),
    sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("revocation_reason", sa.String(32), nullable=True),
    sa.Column("revocation_recorded_at", sa.DateTime(timezone=True), nullable=True),
)

crls = sa.Table(
    "ca_crls",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("issuer", sa.String(64), nullable=False),
    sa.Column("number", sa.Integer, nullable=False),
    sa.Column("this_update", sa.DateTime(timezone=True), nullable=False),
    sa.Column("next_update", sa.DateTime(timezone=True), nullable=False),
    sa.Column("der", sa.LargeBinary, nullable=False),
)

timestamps = sa.Table(
    "ca_timestamps",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("serial", sa.String(40), nullable=False, unique=True),
    sa.Column("gen_time", sa.DateTime(timezone=True), nullable=False),
    sa.Column("digest_algorithm", sa.String(16), nullable=False),
    sa.Column("message_imprint", sa.String(128), nullable=False),
)

serial_blocks = sa.Table(
    "ca_serial_blocks",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("purpose", sa.String(16), nullable=False),
    sa.Column("reserved_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("holder", sa.String(128), nullable=False),
)

TABLES = ("ca_certificates", "ca_crls", "ca_timestamps", "ca_serial_blocks")

# Time-stamp records are written in batches: at this many, or this many seconds after the first waiting one.
JOURNAL_BATCH = 256
JOURNAL_DELAY_SECONDS = 0.5


class SerialTaken(StorageError):
    """The random serial number is already recorded: draw another."""


def serial_hex(serial_number: int) -> str:
    return format(serial_number, "x")


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    if moment.tzinfo is None:  # SQLite keeps no offset: we only ever write UTC
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


@dataclass(frozen=True)
class CertificateRecord:
    serial_number: int
    issuer: str
    profile: str
    subject: str
    fingerprint: str
    not_before: datetime
    not_after: datetime
    issued_at: datetime
    der: bytes
    revoked_at: datetime | None
    revocation_reason: RevocationReason | None

    @property
    def certificate(self) -> x509.Certificate:
        return x509.Certificate.load(self.der)

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    @classmethod
    def from_row(cls, row) -> "CertificateRecord":
        return cls(
            serial_number=int(row.serial, 16),
            issuer=row.issuer,
            profile=row.profile,
            subject=row.subject,
            fingerprint=row.fingerprint,
            not_before=_utc(row.not_before),
            not_after=_utc(row.not_after),
            issued_at=_utc(row.issued_at),
            der=bytes(row.der),
            revoked_at=_utc(row.revoked_at),
            revocation_reason=RevocationReason(row.revocation_reason) if row.revocation_reason else None,
        )


@dataclass(frozen=True)
class CertificateState:
    issuer: str
    profile: str
    revoked_at: datetime | None
    revocation_reason: RevocationReason | None


_STATE_QUERY = sa.select(
    certificates.c.issuer, certificates.c.profile, certificates.c.revoked_at, certificates.c.revocation_reason
).where(certificates.c.serial == sa.bindparam("serial"))


def migrate(engine: sa.Engine) -> None:
    """Create or upgrade the `ca` tables to the latest migration."""
    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    except SQLAlchemyError as exc:
        raise StorageError(
            f"không nâng cấp được cơ sở dữ liệu của CA: {exc}", f"cannot migrate the CA database: {exc}"
        ) from exc


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # WAL lets OCSP/CRL readers run beside a writer; synchronous=NORMAL keeps WAL durable across crashes of
    # the process (not of the machine), and makes each recorded certificate or time-stamp a cheap commit.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


class Store:
    """Records of one authority in one database (URL). Thread-safe: each call is its own transaction."""

    def __init__(self, engine: sa.Engine):
        self.engine = engine
        self._sqlite_write_lock = threading.Lock() if engine.dialect.name == "sqlite" else None
        self._journal: list[dict] = []
        self._journal_lock = threading.Lock()
        self._journal_timer: threading.Timer | None = None

    @classmethod
    def open(cls, url: str, *, migrate_schema: bool = True) -> "Store":
        try:
            kwargs = {}
            if url.startswith("sqlite"):
                kwargs["connect_args"] = {"timeout": 30}
            engine = sa.create_engine(url, **kwargs)
            if engine.dialect.name == "sqlite" and ":memory:" not in url:
                sa.event.listen(engine, "connect", _sqlite_pragmas)
        except (SQLAlchemyError, ImportError, ValueError) as exc:
            raise StorageError(
                f"địa chỉ cơ sở dữ liệu không dùng được: {url}", f"unusable database URL {url}: {exc}"
            ) from exc
        if migrate_schema:
            migrate(engine)
        return cls(engine)

    def close(self) -> None:
        self.flush_timestamps()
        self.engine.dispose()

    def _write(self):
        """A write transaction; SQLite writers are serialised in-process (it has one writer anyway)."""
        return _WriteTransaction(self)

    # Certificates ----------------------------------------------------------------------------------

    def record_certificate(
        self, certificate: x509.Certificate, *, issuer: str, profile: str, issued_at: datetime
    ) -> CertificateRecord:
        der = certificate.dump()
        values = dict(
            serial=serial_hex(certificate.serial_number),
            issuer=issuer,
            profile=profile,
            subject=certificate.subject.human_friendly,
            fingerprint=hashlib.sha256(der).hexdigest(),
            not_before=certificate.not_valid_before,
            not_after=certificate.not_valid_after,
            issued_at=issued_at,
            der=der,
        )
        try:
            with self._write() as connection:
                connection.execute(certificates.insert(), values)
        except IntegrityError as exc:
            raise SerialTaken(
                f"số hiệu {values['serial']} đã được dùng", f"serial {values['serial']} is already recorded"
            ) from exc
        # What was written, without reading it back (the insert either committed exactly this or raised).
        return CertificateRecord(
            serial_number=certificate.serial_number, issuer=issuer, profile=profile, subject=values["subject"],
            fingerprint=values["fingerprint"], not_before=_utc(values["not_before"]),
            not_after=_utc(values["not_after"]), issued_at=_utc(issued_at), der=der, revoked_at=None, revocation_reason=None,
        )

    def certificate_state(self, serial_number: int) -> CertificateState | None:
        """Only what an OCSP answer needs about a certificate (one narrow indexed read), or None.

        The hot path of every OCSP answer: a plain DB-API query (a third of SQLAlchemy Core's cost here);
        a revoked certificate, rare, is read again through Core for its typed time and reason.
        """
        serial = serial_hex(serial_number)
        marker = "?" if self.engine.dialect.paramstyle == "qmark" else "%s"
        try:
            connection = self.engine.raw_connection()
            try:
                cursor = connection.cursor()
                cursor.execute(
                    "SELECT issuer, profile, revoked_at IS NOT NULL FROM ca_certificates WHERE serial = " + marker,
                    (serial,),
                )
                row = cursor.fetchone()
                cursor.close()
                connection.commit()  # end the read transaction the driver may have opened
            finally:
                connection.close()
        except Exception as exc:  # DB-API errors of any driver
            raise StorageError(f"lỗi cơ sở dữ liệu: {exc}", f"database error: {exc}") from exc
        if row is None:
            return None
        if not row[2]:
            return CertificateState(row[0], row[1], None, None)
        full = self._one(_STATE_QUERY, {"serial": serial})
        reason = RevocationReason(full.revocation_reason) if full.revocation_reason else None
        return CertificateState(full.issuer, full.profile, _utc(full.revoked_at), reason)

    def find_certificate(self, serial_number: int) -> CertificateRecord | None:
        row = self._one(sa.select(certificates).where(certificates.c.serial == serial_hex(serial_number)))
        return CertificateRecord.from_row(row) if row is not None else None

    def certificates_of(self, issuer: str) -> list[CertificateRecord]:
        rows = self._all(sa.select(certificates).where(certificates.c.issuer == issuer).order_by(certificates.c.id))
        return [CertificateRecord.from_row(row) for row in rows]

    def revoke(
        self, serial_number: int, *, reason: RevocationReason, revoked_at: datetime, recorded_at: datetime
    ) -> tuple[CertificateRecord, bool]:
        """Mark revoked unless it already is; returns the record and whether this call revoked it."""
        serial = serial_hex(serial_number)
        with self._write() as connection:
            result = connection.execute(
                certificates.update()
                .where(certificates.c.serial == serial, certificates.c.revoked_at.is_(None))
                .values(revoked_at=revoked_at, revocation_reason=reason.value, revocation_recorded_at=recorded_at)
            )
            changed = result.rowcount == 1
        return self.find_certificate(serial_number), changed

    def revoked_entries(self, issuer: str) -> list[RevokedEntry]:
        rows = self._all(
            sa.select(certificates.c.serial, certificates.c.revoked_at, certificates.c.revocation_reason)
            .where(certificates.c.issuer == issuer, certificates.c.revoked_at.is_not(None))
            .order_by(certificates.c.revoked_at)
        )
        return [
            RevokedEntry(int(row.serial, 16), _utc(row.revoked_at), RevocationReason(row.revocation_reason))
            for row in rows
        ]

    # CRLs ------------------------------------------------------------------------------------------

    def last_crl_number(self, issuer: str) -> int:
        row = self._one(sa.select(sa.func.max(crls.c.number)).where(crls.c.issuer == issuer))
        return row[0] or 0

    def record_crl(
        self, issuer: str, *, number: int, this_update: datetime, next_update: datetime, der: bytes
    ) -> None:
        try:
            with self._write() as connection:
                connection.execute(
                    crls.insert().values(
                        issuer=issuer, number=number, this_update=this_update, next_update=next_update, der=der
                    )
                )
        except IntegrityError as exc:
            raise SerialTaken(
                f"số CRL {number} của {issuer} đã có", f"CRL number {number} of {issuer} is already recorded"
            ) from exc

    def latest_crl(self, issuer: str) -> tuple[bytes, datetime] | None:
        """The DER and nextUpdate of the newest CRL of `issuer`, or None."""
        row = self._one(
            sa.select(crls.c.der, crls.c.next_update)
            .where(crls.c.issuer == issuer)
            .order_by(crls.c.number.desc())
            .limit(1)
        )
        return (bytes(row.der), _utc(row.next_update)) if row is not None else None

    # Time-stamps -----------------------------------------------------------------------------------

    def record_timestamp(
        self, serial_number: int, *, gen_time: datetime, digest_algorithm: str, message_imprint: bytes
    ) -> None:
        try:
            with self._write() as connection:
                connection.execute(
                    timestamps.insert().values(
                        serial=serial_hex(serial_number),
                        gen_time=gen_time,
                        digest_algorithm=digest_algorithm,
                        message_imprint=message_imprint.hex(),
                    )
                )
        except IntegrityError as exc:
            raise SerialTaken("số hiệu dấu thời gian đã dùng", "time-stamp serial already recorded") from exc

    def reserve_serial_block(self, *, purpose: str, reserved_at: datetime) -> int:
        """Reserve the next block of serial numbers (see `ca.serials`); its number is the new row's key."""
        holder = f"{socket.gethostname()}:{os.getpid()}"[:128]
        with self._write() as connection:
            result = connection.execute(
                serial_blocks.insert().values(purpose=purpose, reserved_at=reserved_at, holder=holder)
            )
            return int(result.inserted_primary_key[0])

    def journal_timestamp(
        self, serial_number: int, *, gen_time: datetime, digest_algorithm: str, message_imprint: bytes
    ) -> None:
        """Record a token later, in a batch (`JOURNAL_BATCH` rows or `JOURNAL_DELAY_SECONDS`).

        Used with block serials, which are unique without the database's check. A process killed outright
        loses at most the batch still waiting; `close` and `table_contents` write it out.
        """
        row = dict(
            serial=serial_hex(serial_number), gen_time=gen_time, digest_algorithm=digest_algorithm,
            message_imprint=message_imprint.hex(),
        )
        with self._journal_lock:
            self._journal.append(row)
            full = len(self._journal) >= JOURNAL_BATCH
            if not full and self._journal_timer is None:
                self._journal_timer = threading.Timer(JOURNAL_DELAY_SECONDS, self.flush_timestamps)
                self._journal_timer.daemon = True
                self._journal_timer.start()
        if full:
            self.flush_timestamps()

    def flush_timestamps(self) -> int:
        """Write the waiting time-stamp records in one transaction; returns how many."""
        with self._journal_lock:
            rows, self._journal = self._journal, []
            timer, self._journal_timer = self._journal_timer, None
        if timer is not None and timer is not threading.current_thread():
            timer.cancel()
        if not rows:
            return 0
        try:
            with self._write() as connection:
                connection.execute(timestamps.insert(), rows)
        except IntegrityError as exc:  # cannot happen with block serials: say so loudly if it does
            raise StorageError("số hiệu dấu thời gian bị trùng", f"duplicate time-stamp serial: {exc}") from exc
        return len(rows)

    # Plumbing --------------------------------------------------------------------------------------

    def table_contents(self) -> dict[str, list[tuple]]:
        """Every row of the `ca` tables, for audits and for tests that prove nothing changed."""
        self.flush_timestamps()
        out = {}
        for table in (certificates, crls, timestamps, serial_blocks):
            out[table.name] = [tuple(row) for row in self._all(sa.select(table).order_by(table.c.id))]
        return out

    def _one(self, statement, parameters=None):
        try:
            with self.engine.connect() as connection:
                return connection.execute(statement, parameters).first()
        except SQLAlchemyError as exc:
            raise StorageError(f"lỗi cơ sở dữ liệu: {exc}", f"database error: {exc}") from exc

    def _all(self, statement):
        try:
            with self.engine.connect() as connection:
                return connection.execute(statement).all()
        except SQLAlchemyError as exc:
            raise StorageError(f"lỗi cơ sở dữ liệu: {exc}", f"database error: {exc}") from exc


class _WriteTransaction:
    def __init__(self, store: Store):
        self._store = store
        self._context = None

    def __enter__(self):
        lock = self._store._sqlite_write_lock
        if lock is not None:
            lock.acquire()
        try:
            self._context = self._store.engine.begin()
            return self._context.__enter__()
        except SQLAlchemyError as exc:
            if lock is not None:
                lock.release()
            raise StorageError(f"lỗi cơ sở dữ liệu: {exc}", f"database error: {exc}") from exc

    def __exit__(self, exc_type, exc, tb):
        lock = self._store._sqlite_write_lock
        try:
            self._context.__exit__(exc_type, exc, tb)
        except IntegrityError:
            raise
        except SQLAlchemyError as error:
            raise StorageError(f"lỗi cơ sở dữ liệu: {error}", f"database error: {error}") from error
        finally:
            if lock is not None:
                lock.release()
        if isinstance(exc, SQLAlchemyError) and not isinstance(exc, IntegrityError):
            raise StorageError(f"lỗi cơ sở dữ liệu: {exc}", f"database error: {exc}") from exc
        return False
