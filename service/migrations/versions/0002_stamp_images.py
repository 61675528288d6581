"""Stored stamp images: officials' signature images and agencies' seal images; users linked to an official.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "service_stamp_images",
        sa.Column("owner_kind", sa.String(16), nullable=False),
        sa.Column("owner", sa.String(64), nullable=False),
        sa.Column("png", sa.LargeBinary, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("diameter_mm", sa.Float, nullable=True),
        sa.Column("updated_by", sa.String(120), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("owner_kind", "owner", name="pk_service_stamp_images"),
    )
    with op.batch_alter_table("service_users") as batch:
        batch.add_column(sa.Column("official_id", sa.Integer, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("service_users") as batch:
        batch.drop_column("official_id")
    op.drop_table("service_stamp_images")
