"""Alembic environment of the ledger: run programmatically by `ledger.store.migrate`, on a connection given
in `config.attributes["connection"]`. The ledger keeps its own version table so that other parts (ca/,
service/) can migrate their own tables in the same database independently."""

from alembic import context

from ledger.models import Base

VERSION_TABLE = "ledger_alembic_version"


def include_object(obj, name, type_, reflected, compare_to):
    # Only the ledger's tables: the database is shared with the CA and the service.
    if type_ == "table":
        return name.startswith("ledger_")
    return True


connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    version_table=VERSION_TABLE,
    include_object=include_object,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
