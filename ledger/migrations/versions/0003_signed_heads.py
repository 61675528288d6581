"""signed chain heads: (seq, hash) of the head signed by the service's seal key on every append

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ledger_signed_heads",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("key_sha256", sa.String(64), nullable=False),
        sa.Column("scheme", sa.String(24), nullable=False),
        sa.Column("signature", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_ledger_signed_heads"),
    )


def downgrade() -> None:
    op.drop_table("ledger_signed_heads")
