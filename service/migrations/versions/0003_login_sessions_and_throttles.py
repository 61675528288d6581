"""Server-side login sessions (revoked by logout, password change, deactivation) and login throttles.

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
        "service_login_sessions",
        sa.Column("id_sha256", sa.String(64), nullable=False),
        sa.Column("user_id", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_reason", sa.String(32), nullable=True),
        sa.PrimaryKeyConstraint("id_sha256", name="pk_service_login_sessions"),
    )
    op.create_index("ix_service_login_sessions_user_id", "service_login_sessions", ["user_id"])
    op.create_table(
        "service_login_throttles",
        sa.Column("subject", sa.String(80), nullable=False),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("last_failure_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("subject", name="pk_service_login_throttles"),
    )


def downgrade() -> None:
    op.drop_table("service_login_throttles")
    op.drop_index("ix_service_login_sessions_user_id", "service_login_sessions")
    op.drop_table("service_login_sessions")
