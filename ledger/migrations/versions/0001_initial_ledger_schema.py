"""initial ledger schema: roster, levels and targets, documents, numbering, hash-chained records

Revision ID: 0001
Revises: (none)
"""

from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ledger_agencies',
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('legacy_code', sa.String(length=20), nullable=True),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('level_code', sa.String(length=32), nullable=False),
    sa.Column('parent_code', sa.String(length=40), nullable=True),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_until', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['parent_code'], ['ledger_agencies.code'], name=op.f('fk_ledger_agencies_parent_code_ledger_agencies')),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_ledger_agencies')),
    sa.UniqueConstraint('legacy_code', name=op.f('uq_ledger_agencies_legacy_code'))
    )
    op.create_table('ledger_chain_head',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('last_seq', sa.BigInteger(), nullable=False),
    sa.Column('last_hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_chain_head'))
    )
    op.create_table('ledger_levels',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=False),
    sa.Column('name_vi', sa.String(length=200), nullable=False),
    sa.Column('name_en', sa.String(length=200), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_until', sa.Date(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_levels')),
    sa.UniqueConstraint('code', 'valid_from', name='uq_ledger_levels_code_from')
    )
    op.create_table('ledger_number_counters',
    sa.Column('agency_code', sa.String(length=40), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('series', sa.String(length=40), nullable=False),
    sa.Column('last_number', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('agency_code', 'year', 'series', name=op.f('pk_ledger_number_counters'))
    )
    op.create_table('ledger_targets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('level_code', sa.String(length=32), nullable=False),
    sa.Column('metric', sa.String(length=40), nullable=False),
    sa.Column('percent', sa.Float(), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_until', sa.Date(), nullable=True),
    sa.Column('source', sa.String(length=300), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_targets')),
    sa.UniqueConstraint('level_code', 'metric', 'valid_from', name='uq_ledger_targets_level_metric_from')
    )
    op.create_table('ledger_documents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agency_code', sa.String(length=40), nullable=False),
    sa.Column('direction', sa.String(length=10), nullable=False),
    sa.Column('dated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('series', sa.String(length=40), nullable=False),
    sa.Column('number', sa.Integer(), nullable=True),
    sa.Column('notation', sa.String(length=100), nullable=True),
    sa.Column('doc_type', sa.String(length=60), nullable=False),
    sa.Column('title', sa.Text(), nullable=True),
    sa.Column('secret', sa.Boolean(), nullable=False),
    sa.Column('electronic', sa.Boolean(), nullable=False),
    sa.Column('counterpart_code', sa.String(length=40), nullable=True),
    sa.Column('external_id', sa.String(length=100), nullable=True),
    sa.Column('returned_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('return_reason', sa.Text(), nullable=True),
    sa.Column('registered_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agency_code'], ['ledger_agencies.code'], name=op.f('fk_ledger_documents_agency_code_ledger_agencies')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_documents')),
    sa.UniqueConstraint('agency_code', 'external_id', name='uq_ledger_documents_external_id'),
    sa.UniqueConstraint('agency_code', 'year', 'series', 'number', name='uq_ledger_documents_number')
    )
    with op.batch_alter_table('ledger_documents', schema=None) as batch_op:
        batch_op.create_index('ix_ledger_documents_agency_dated', ['agency_code', 'dated_at'], unique=False)
        batch_op.create_index('ix_ledger_documents_dated_at', ['dated_at'], unique=False)

    op.create_table('ledger_officials',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.String(length=60), nullable=False),
    sa.Column('identifiers', sa.Text(), nullable=False),
    sa.Column('agency_code', sa.String(length=40), nullable=False),
    sa.Column('full_name', sa.String(length=200), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=True),
    sa.Column('active_from', sa.Date(), nullable=True),
    sa.Column('active_until', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['agency_code'], ['ledger_agencies.code'], name=op.f('fk_ledger_officials_agency_code_ledger_agencies')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_officials')),
    sa.UniqueConstraint('person_id', name=op.f('uq_ledger_officials_person_id'))
    )
    with op.batch_alter_table('ledger_officials', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ledger_officials_agency_code'), ['agency_code'], unique=False)

    op.create_table('ledger_certificates',
    sa.Column('serial', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('agency_code', sa.String(length=40), nullable=False),
    sa.Column('official_id', sa.Integer(), nullable=True),
    sa.Column('subject', sa.Text(), nullable=True),
    sa.Column('not_before', sa.DateTime(timezone=True), nullable=False),
    sa.Column('not_after', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revocation_reason', sa.String(length=40), nullable=True),
    sa.ForeignKeyConstraint(['agency_code'], ['ledger_agencies.code'], name=op.f('fk_ledger_certificates_agency_code_ledger_agencies')),
    sa.ForeignKeyConstraint(['official_id'], ['ledger_officials.id'], name=op.f('fk_ledger_certificates_official_id_ledger_officials')),
    sa.PrimaryKeyConstraint('serial', name=op.f('pk_ledger_certificates'))
    )
    with op.batch_alter_table('ledger_certificates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ledger_certificates_agency_code'), ['agency_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_ledger_certificates_official_id'), ['official_id'], unique=False)

    op.create_table('ledger_records',
    sa.Column('seq', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('record_id', sa.String(length=32), nullable=False),
    sa.Column('recorded_at', sa.String(length=40), nullable=False),
    sa.Column('event', sa.String(length=16), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=True),
    sa.Column('agency_code', sa.String(length=40), nullable=False),
    sa.Column('signature_kind', sa.String(length=16), nullable=False),
    sa.Column('purpose', sa.String(length=16), nullable=True),
    sa.Column('certificate_serial', sa.String(length=64), nullable=False),
    sa.Column('signer_name', sa.String(length=300), nullable=False),
    sa.Column('signer_identifiers', sa.Text(), nullable=False),
    sa.Column('signed_digest', sa.String(length=128), nullable=False),
    sa.Column('signing_time', sa.String(length=40), nullable=False),
    sa.Column('signing_time_source', sa.String(length=16), nullable=False),
    sa.Column('indication', sa.String(length=24), nullable=False),
    sa.Column('sub_indication', sa.String(length=48), nullable=True),
    sa.Column('corrects', sa.String(length=32), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['document_id'], ['ledger_documents.id'], name=op.f('fk_ledger_records_document_id_ledger_documents')),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_ledger_records')),
    sa.UniqueConstraint('record_id', name=op.f('uq_ledger_records_record_id'))
    )
    with op.batch_alter_table('ledger_records', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ledger_records_agency_code'), ['agency_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_ledger_records_document_id'), ['document_id'], unique=False)

    op.create_table('ledger_signed_files',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('filename', sa.String(length=300), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['document_id'], ['ledger_documents.id'], name=op.f('fk_ledger_signed_files_document_id_ledger_documents')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_signed_files')),
    sa.UniqueConstraint('digest', name=op.f('uq_ledger_signed_files_digest'))
    )
    with op.batch_alter_table('ledger_signed_files', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ledger_signed_files_document_id'), ['document_id'], unique=False)

    # The chain starts from the genesis hash; appends lock and advance this single row.
    head = sa.table("ledger_chain_head", sa.column("id"), sa.column("last_seq"), sa.column("last_hash"))
    op.bulk_insert(head, [{"id": 1, "last_seq": 0, "last_hash": "0" * 64}])


def downgrade() -> None:
    with op.batch_alter_table('ledger_signed_files', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ledger_signed_files_document_id'))

    op.drop_table('ledger_signed_files')
    with op.batch_alter_table('ledger_records', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ledger_records_document_id'))
        batch_op.drop_index(batch_op.f('ix_ledger_records_agency_code'))

    op.drop_table('ledger_records')
    with op.batch_alter_table('ledger_certificates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ledger_certificates_official_id'))
        batch_op.drop_index(batch_op.f('ix_ledger_certificates_agency_code'))

    op.drop_table('ledger_certificates')
    with op.batch_alter_table('ledger_officials', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ledger_officials_agency_code'))

    op.drop_table('ledger_officials')
    with op.batch_alter_table('ledger_documents', schema=None) as batch_op:
        batch_op.drop_index('ix_ledger_documents_dated_at')
        batch_op.drop_index('ix_ledger_documents_agency_dated')

    op.drop_table('ledger_documents')
    op.drop_table('ledger_targets')
    op.drop_table('ledger_number_counters')
    op.drop_table('ledger_levels')
    op.drop_table('ledger_chain_head')
    op.drop_table('ledger_agencies')
