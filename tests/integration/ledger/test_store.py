"""Migrations: the ledger's own version table, idempotent, matching the models, defaults loaded as data."""

from __future__ import annotations

from datetime import date

import pytest

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, select, text

from ledger import migrate, open_store
from ledger.models import Base, Level, Target


def test_migration_creates_the_models_tables_and_is_idempotent(database_url):
    store = open_store(database_url)
    migrate(store.engine)  # a second run changes nothing
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM ledger_alembic_version")).scalar_one() == "0004"
        context = MigrationContext.configure(conn, opts={"include_object": lambda o, n, t, r, c: t != "table" or (n.startswith("ledger_") and n != "ledger_alembic_version")})
        assert compare_metadata(context, Base.metadata) == []
        assert conn.execute(text("SELECT id, last_seq, last_hash FROM ledger_chain_head")).one() == (1, 0, "0" * 64)
    tables = set(inspect(store.engine).get_table_names())
    assert "alembic_version" not in tables  # the ledger does not take the shared default version table
    store.dispose()


def test_default_levels_and_targets_are_loaded_from_data(database_url):
    store = open_store(database_url)
    open_store(database_url).dispose()  # opening again does not load the defaults twice
    with store.transaction() as session:
        levels = session.execute(select(Level.code, Level.valid_until).order_by(Level.rank)).all()
        assert levels == [("city", None), ("district", date(2025, 6, 30)), ("commune", None)]
        online = session.execute(
            select(Target.level_code, Target.percent).where(Target.metric == "online_rate").order_by(Target.level_code)
        ).all()
        assert online == [("city", 100.0), ("commune", 80.0), ("district", 95.0)]
        assert session.scalar(select(Target.id).where(Target.metric == "certificate_coverage", Target.percent != 100)) is None
    store.dispose()


def test_replaced_targets_apply_to_the_periods_they_name(database_url):
    from ledger import InvalidValue
    from ledger.report import Metric, monthly_report
    from ledger.targets import default_targets_text, replace_targets

    store = open_store(database_url)
    plan = default_targets_text() + """
[[target]]
level = "commune"
metric = "online_rate"
percent = 90
valid_from = 2026-01-01
source = "Kế hoạch 2026"
"""
    # The commune online target of 80% now ends with 2025 (the default file has no end date for it).
    plan = plan.replace('level = "commune"\nmetric = "online_rate"\npercent = 80\nvalid_from = 2024-01-01\n',
                        'level = "commune"\nmetric = "online_rate"\npercent = 80\nvalid_from = 2024-01-01\nvalid_until = 2025-12-31\n')
    assert replace_targets(store, plan) == (3, 10)
    targets = lambda month: {t.metric: t.percent for t in monthly_report(store, month).level("commune").targets}  # noqa: E731
    assert targets("2025-12")[Metric.ONLINE_RATE] == 80.0
    assert targets("2026-01")[Metric.ONLINE_RATE] == 90.0
    with pytest.raises(InvalidValue):
        replace_targets(store, plan.replace("percent = 90", "percent = 900"))
    assert targets("2026-01")[Metric.ONLINE_RATE] == 90.0  # a refused file changes nothing
    store.dispose()


def test_migrate_and_read_through_an_engine_that_begins_its_own_sqlite_transactions(sqlite_url):
    # The service's engines let SQLAlchemy emit BEGIN itself (pysqlite autocommit + a "begin" listener).
    from sqlalchemy import create_engine, event

    from ledger import Store, append, import_agencies_csv, verify_chain
    from ledger.report import monthly_report
    from tests.support.ledger import ROSTER_CSV, make_entry

    engine = create_engine(sqlite_url, connect_args={"timeout": 30})

    @event.listens_for(engine, "connect")
    def _autocommit(dbapi_connection, _record):
        dbapi_connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def _begin(connection):
        connection.exec_driver_sql("BEGIN")

    migrate(engine)
    store = Store(engine)
    import_agencies_csv(store, ROSTER_CSV)
    append(store, make_entry(n=1))
    assert verify_chain(store).records == 1
    assert [level.code for level in monthly_report(store, "2025-08").levels] == ["city", "commune"]
    engine.dispose()
