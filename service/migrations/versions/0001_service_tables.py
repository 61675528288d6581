"""The service's tables: users, API keys, document files, signing sessions, audit events.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "service_users",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("display_name", sa.String(200), nullable=False),
        sa.Column("password_hash", sa.String(300), nullable=False),
        sa.Column("roles", sa.String(200), nullable=False),
        sa.Column("agency_code", sa.String(64), nullable=True),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_service_users"),
        sa.UniqueConstraint("username", name="uq_service_users_username"),
    )
    op.create_table(
        "service_api_keys",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("key_sha256", sa.String(64), nullable=False),
        sa.Column("scopes", sa.String(300), nullable=False),
        sa.Column("agency_code", sa.String(64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_service_api_keys"),
        sa.UniqueConstraint("name", name="uq_service_api_keys_name"),
        sa.UniqueConstraint("prefix", name="uq_service_api_keys_prefix"),
    )
    op.create_table(
        "service_document_files",
        sa.Column("document_id", sa.String(64), nullable=False),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("content", sa.LargeBinary, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("document_id", name="pk_service_document_files"),
    )
    op.create_table(
        "service_signing_sessions",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("principal", sa.String(120), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("document_id", sa.String(64), nullable=True),
        sa.Column("document_revision", sa.Integer, nullable=True),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("certificate", sa.LargeBinary, nullable=False),
        sa.Column("digest", sa.LargeBinary, nullable=False),
        sa.Column("digest_algorithm", sa.String(16), nullable=False),
        sa.Column("signature_algorithm", sa.String(32), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("state", sa.LargeBinary, nullable=False),
        sa.Column("fields", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("result", sa.LargeBinary, nullable=True),
        sa.Column("result_sha256", sa.String(64), nullable=True),
        sa.Column("ledger_record", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_service_signing_sessions"),
    )
    op.create_index("ix_service_signing_sessions_expires_at", "service_signing_sessions", ["expires_at"])
    op.create_table(
        "service_audit_events",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(120), nullable=False),
        sa.Column("action", sa.String(60), nullable=False),
        sa.Column("target", sa.String(200), nullable=True),
        sa.Column("outcome", sa.String(40), nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("remote_addr", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_service_audit_events"),
    )
    op.create_index("ix_service_audit_events_at", "service_audit_events", ["at"])
    op.create_table(
        "service_validations",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("principal", sa.String(120), nullable=False),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("indication", sa.String(32), nullable=False),
        sa.Column("report_en", sa.Text, nullable=False),
        sa.Column("report_vi", sa.Text, nullable=False),
        sa.Column("document_id", sa.Integer, nullable=True),
        sa.Column("returned", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("receipt", sa.LargeBinary, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_service_validations"),
    )


def downgrade() -> None:
    op.drop_table("service_validations")
    op.drop_index("ix_service_audit_events_at", "service_audit_events")
    op.drop_table("service_audit_events")
    op.drop_index("ix_service_signing_sessions_expires_at", "service_signing_sessions")
    op.drop_table("service_signing_sessions")
    op.drop_table("service_document_files")
    op.drop_table("service_api_keys")
    op.drop_table("service_users")
