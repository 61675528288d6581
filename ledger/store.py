"""Opening the ledger's database and migrating it (SQLite by default, PostgreSQL in production).

`open_store(url)` returns a `Store`: the engine, configured for concurrent appends (SQLite: WAL, a long busy
timeout, foreign keys on), and `transaction()`, a session whose SQLAlchemy errors come out as `LedgerError`s.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import sqlalchemy
from sqlalchemy import event, select, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DataError, IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session

from ledger.errors import Conflict, LedgerError, StoreUnavailable
from ledger.models import ChainHead, Level

GENESIS_HASH = "0" * 64
MIGRATION_LOCK = 0x6B79736F4C  # "kysoL": the ledger's advisory lock key on PostgreSQL
MIGRATIONS = Path(__file__).parent / "migrations"


def create_engine(url: str, **kwargs) -> Engine:
    """An engine for the ledger. SQLite: WAL so readers do not block the writer, a 60 s busy timeout so
    concurrent appends wait their turn instead of failing, and foreign keys enforced."""
    try:
        parsed = sqlalchemy.engine.make_url(url)
    except sqlalchemy.exc.ArgumentError as exc:
        raise StoreUnavailable(f"địa chỉ cơ sở dữ liệu sai: {exc}", f"bad database URL: {exc}") from exc
    if parsed.get_backend_name() == "sqlite":
        kwargs.setdefault("connect_args", {}).setdefault("timeout", 60)
        engine = sqlalchemy.create_engine(url, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):
            cursor = dbapi_connection.cursor()
            if parsed.database and parsed.database != ":memory:":
                cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=60000")
            cursor.close()

        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return sqlalchemy.create_engine(url, **kwargs)


@dataclass
class Store:
    """The ledger's database. Functions of the ledger take a store as their first argument.

    `head_seal` (a `ledger.seal.HeadSeal`), when set, signs the chain head on every append; `verify_chain`
    then checks the signed heads with its public key."""

    engine: Engine
    head_seal: object | None = None

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session committed on success, rolled back on any error; database errors become LedgerErrors."""
        session = Session(self.engine, expire_on_commit=False)
        try:
            with translated_errors():
                yield session
                session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[Connection]:
        """A read-only connection that sees one consistent state for all its statements (PostgreSQL:
        REPEATABLE READ; SQLite: one read transaction, WAL keeps its snapshot until the end)."""
        with translated_errors(), self.engine.connect() as connection:
            if connection.dialect.name == "sqlite":
                begin_sqlite(connection, "BEGIN")
            else:
                connection = connection.execution_options(isolation_level="REPEATABLE READ")
            try:
                yield connection
            finally:
                connection.rollback()

    def dispose(self) -> None:
        self.engine.dispose()


@contextlib.contextmanager
def translated_errors() -> Iterator[None]:
    """Let no SQLAlchemy or driver exception reach a caller of the ledger (STYLE.md: one hierarchy)."""
    try:
        yield
    except LedgerError:
        raise
    except IntegrityError as exc:
        detail = str(exc.orig).splitlines()[0] if exc.orig is not None else str(exc)
        raise Conflict(f"dữ liệu trùng hoặc sai ràng buộc: {detail}", f"constraint violated: {detail}") from exc
    except DataError as exc:  # a value the column cannot hold (too long, out of range)
        from ledger.errors import InvalidValue

        detail = str(exc.orig).splitlines()[0] if exc.orig is not None else str(exc)
        raise InvalidValue(f"giá trị không hợp lệ: {detail}", f"invalid value: {detail}") from exc
    except OperationalError as exc:
        detail = str(exc.orig).splitlines()[0] if exc.orig is not None else str(exc)
        raise StoreUnavailable(f"lỗi cơ sở dữ liệu: {detail}", f"database error: {detail}") from exc
    except SQLAlchemyError as exc:
        raise StoreUnavailable(f"lỗi cơ sở dữ liệu: {exc}", f"database error: {exc}") from exc


def begin_sqlite(connection: Connection, statement: str) -> None:
    """Open the SQLite transaction explicitly, unless the engine already did (an engine that emits its own
    BEGIN on SQLAlchemy's begin event, like the service's, has one open by now)."""
    if not connection.in_transaction():
        connection.begin()  # SQLAlchemy's begin first: it fires such an engine's listener
    if not connection.connection.driver_connection.in_transaction:
        connection.exec_driver_sql(statement)


def open_store(url: str, *, migrate_schema: bool = True, **engine_kwargs) -> Store:
    """Open the ledger at `url`, migrating it to the latest schema first unless told not to."""
    store = Store(create_engine(url, **engine_kwargs))
    if migrate_schema:
        migrate(store.engine)
    return store


def migrate(engine: Engine) -> None:
    """Bring the ledger's tables to the latest revision (its own `ledger_alembic_version` table) and load
    the default levels and targets (ledger/data/targets.toml) into an empty database."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    from ledger.targets import default_targets_text, load_targets, parse_targets

    with translated_errors(), engine.begin() as connection:
        # Processes that open a new database together migrate it once: the first takes the lock, the others
        # wait and then find it done (PostgreSQL: a transaction advisory lock; SQLite: BEGIN IMMEDIATE).
        if connection.dialect.name == "sqlite":
            begin_sqlite(connection, "BEGIN IMMEDIATE")
        elif connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
        with Session(bind=connection) as session:
            if session.scalar(select(Level.id).limit(1)) is None:
                load_targets(session, parse_targets(default_targets_text(), source="ledger/data/targets.toml"))
            session.flush()


def chain_head(session: Session) -> ChainHead:
    return session.get(ChainHead, 1)
