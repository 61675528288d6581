"""ca: issued certificates, CRLs, time-stamp serials.

Revision ID: ca0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "ca0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ca_certificates",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        # Serial numbers are random (>= 64 bits) and unique by this constraint, not by luck (issue 2).
        sa.Column("serial", sa.String(40), nullable=False, unique=True),
        sa.Column("issuer", sa.String(64), nullable=False),
        sa.Column("profile", sa.String(32), nullable=False),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("not_before", sa.DateTime(timezone=True), nullable=False),
        sa.Column("not_after", sa.DateTime(timezone=True), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("der", sa.LargeBinary, nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revocation_reason", sa.String(32), nullable=True),
        sa.Column("revocation_recorded_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_ca_certificates_issuer", "ca_certificates", ["issuer"])
    op.create_table(
        "ca_crls",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("issuer", sa.String(64), nullable=False),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("this_update", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_update", sa.DateTime(timezone=True), nullable=False),
        sa.Column("der", sa.LargeBinary, nullable=False),
        sa.UniqueConstraint("issuer", "number", name="uq_ca_crls_issuer_number"),
    )
    op.create_table(
        "ca_timestamps",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("serial", sa.String(40), nullable=False, unique=True),
        sa.Column("gen_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("digest_algorithm", sa.String(16), nullable=False),
        sa.Column("message_imprint", sa.String(128), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("ca_timestamps")
    op.drop_table("ca_crls")
    op.drop_index("ix_ca_certificates_issuer", table_name="ca_certificates")
    op.drop_table("ca_certificates")
