"""ca: blocks of time-stamp serial numbers reserved by a process (issue 12).

Revision ID: ca0002
Revises: ca0001
"""

import sqlalchemy as sa
from alembic import op

revision = "ca0002"
down_revision = "ca0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ca_serial_blocks",
        # The primary key is the block number: a process owns block N and numbers tokens N << 20 + i.
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("purpose", sa.String(16), nullable=False),
        sa.Column("reserved_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("holder", sa.String(128), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("ca_serial_blocks")
