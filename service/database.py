"""Engines and migrations of the service's database (the same database as the ledger and the CA).

`open_engine(url)` configures SQLite for several processes (WAL, a busy timeout) so that gunicorn workers on
the embedded default wait for each other instead of failing. `migrate(engine)` brings the service's tables
to the newest Alembic revision, recorded in its own version table `service_alembic_version`.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

MIGRATIONS = Path(__file__).with_name("migrations")
VERSION_TABLE = "service_alembic_version"
IMMEDIATE = "kyso_sqlite_immediate"


def write_transaction(session) -> None:
    """Start `session`'s transaction as a writer: on SQLite, BEGIN IMMEDIATE (two writers that both read
    before writing would otherwise fail with "database is locked"); elsewhere an ordinary BEGIN."""
    session.connection(execution_options={IMMEDIATE: True})


def open_engine(url: str) -> Engine:
    """An engine for `url`; SQLite gets WAL and a 30 s busy timeout, PostgreSQL a pre-ping pool."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):
            # Let SQLAlchemy open transactions itself (BEGIN IMMEDIATE below) instead of pysqlite's deferred
            # BEGIN, which deadlocks two writers that both read first.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(connection):
            # Writers that read first ask for the write lock up front (see `write_transaction`); readers
            # take a deferred BEGIN and never block anyone under WAL.
            if connection.get_execution_options().get(IMMEDIATE):
                connection.exec_driver_sql("BEGIN IMMEDIATE")
            else:
                connection.exec_driver_sql("BEGIN")

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5)


def migrate(engine: Engine) -> None:
    """Upgrade the service's tables to the newest revision (safe to run again)."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("version_table", VERSION_TABLE)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
