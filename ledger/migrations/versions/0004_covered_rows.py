"""covered rows: documents, final numbers and signed files in the hash chain (records of event "covered")

Revision ID: 0004
Revises: 0003

Rows written before this revision are covered by no record: `verify_chain` reports them as inserted until an
administrator, after checking them, covers them with `kyso ledger seal-head --cover-existing`.
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("ledger_records", schema=None) as batch_op:
        batch_op.add_column(sa.Column("covers", sa.String(80), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("ledger_records", schema=None) as batch_op:
        batch_op.drop_column("covers")
