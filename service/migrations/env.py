"""Alembic environment of the service's tables: runs on the connection handed in by `service.database`."""

from alembic import context

from service.tables import Base

config = context.config
connection = config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    version_table=config.get_main_option("version_table"),
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
