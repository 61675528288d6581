"""Database fixtures: every storage test runs on SQLite and on a real PostgreSQL server.

`make test` and `.ci/run` start PostgreSQL (scripts/start-postgres) and set KYSO_TEST_DATABASE_URL to a role
that may create databases; each test gets a database of its own, dropped afterwards. Without the variable,
PostgreSQL cases are skipped locally and fail under CI (CI=true), so a missing server cannot pass quietly.
"""

from __future__ import annotations

import os
import uuid

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url


def _postgres_admin_url() -> str | None:
    return os.environ.get("KYSO_TEST_DATABASE_URL")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request, tmp_path) -> str:
    """A fresh, empty database URL: SQLite in a temporary folder, then a new PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'kyso-test.db'}"
        return
    admin_url = _postgres_admin_url()
    if not admin_url:
        if os.environ.get("CI"):
            pytest.fail("KYSO_TEST_DATABASE_URL is not set: CI must start PostgreSQL (scripts/start-postgres)")
        pytest.skip("KYSO_TEST_DATABASE_URL not set (run through `make test`)")
    name = f"kyso_t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    """Only SQLite, for tests where the engine does not matter."""
    return f"sqlite:///{tmp_path / 'kyso-test.db'}"
