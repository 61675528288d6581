"""Alembic environment of `ca`: applied programmatically by `ca.store.migrate`, on the caller's connection.

`ca` keeps its own version table (`ca_alembic_version`) so that its migrations live beside those of other
parts (the ledger, the service) in one database without either seeing the other's history.
"""

from alembic import context

VERSION_TABLE = "ca_alembic_version"

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=None, version_table=VERSION_TABLE)
with context.begin_transaction():
    context.run_migrations()
