"""number reservations: every number given, reserved / final / released, so that an abandoned signing
session's number is given again (no gaps in a series)

Revision ID: 0002
Revises: 0001
"""

from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ledger_number_reservations',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('agency_code', sa.String(length=40), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('series', sa.String(length=40), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('holder', sa.String(length=64), nullable=True),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('reserved', 'final', 'released')", name='ck_ledger_number_reservations_status'),
    sa.CheckConstraint('number >= 1', name='ck_ledger_number_reservations_positive'),
    sa.CheckConstraint("status <> 'reserved' OR (holder IS NOT NULL AND expires_at IS NOT NULL)", name='ck_ledger_number_reservations_held'),
    sa.CheckConstraint("status <> 'released' OR holder IS NULL", name='ck_ledger_number_reservations_free'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_number_reservations')),
    sa.UniqueConstraint('agency_code', 'year', 'series', 'number', name='uq_ledger_number_reservations_number')
    )
    op.create_index(op.f('ix_ledger_number_reservations_holder'), 'ledger_number_reservations', ['holder'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_ledger_number_reservations_holder'), table_name='ledger_number_reservations')
    op.drop_table('ledger_number_reservations')
