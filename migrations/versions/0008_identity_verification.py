"""identity_verification and identity_case: trust levels derived from verification records

Existing accounts above level 2 keep their level through an `override` record that says it was
set before records existed; the document fingerprint column widens for `kid.hex` values.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 16:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('identity_verification',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.String(length=36), nullable=False),
    sa.Column('method', sa.String(length=24), nullable=False),
    sa.Column('level', sa.SmallInteger(), nullable=False),
    sa.Column('result', sa.String(length=24), nullable=False),
    sa.Column('document_type', sa.String(length=40), nullable=True),
    sa.Column('fingerprint', sa.String(length=100), nullable=True),
    sa.Column('masked_number', sa.String(length=40), nullable=True),
    sa.Column('transaction_id', sa.String(length=80), nullable=True),
    sa.Column('score', sa.Float(), nullable=True),
    sa.Column('actor', sa.String(length=160), nullable=False),
    sa.Column('staff_id', sa.String(length=36), nullable=True),
    sa.Column('hall_code', sa.String(length=32), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('evidence', sa.JSON(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('identity_verification', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_identity_verification_user_id'), ['user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_identity_verification_fingerprint'), ['fingerprint'], unique=False)

    op.create_table('identity_case',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('claimant_id', sa.String(length=36), nullable=False),
    sa.Column('holder_id', sa.String(length=36), nullable=True),
    sa.Column('document_type', sa.String(length=40), nullable=False),
    sa.Column('fingerprint', sa.String(length=100), nullable=False),
    sa.Column('sealed_number', sa.Text(), nullable=False),
    sa.Column('masked_number', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=True),
    sa.Column('method', sa.String(length=24), nullable=False),
    sa.Column('level', sa.SmallInteger(), nullable=False),
    sa.Column('transaction_id', sa.String(length=80), nullable=True),
    sa.Column('opened_by', sa.String(length=160), nullable=False),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('resolution', sa.String(length=16), nullable=True),
    sa.Column('resolved_by', sa.String(length=160), nullable=True),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['claimant_id'], ['user_account.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['holder_id'], ['user_account.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('identity_case', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_identity_case_status'), ['status'], unique=False)

    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('id_document_type', sa.String(length=40), nullable=True))
        batch_op.alter_column('id_number_hash', existing_type=sa.String(length=64),
                              type_=sa.String(length=100), existing_nullable=True)

    # Levels set before records existed stay, as overrides that say so.
    op.execute(sa.text(
        "INSERT INTO identity_verification (user_id, method, level, result, actor, reason, "
        "created_at) SELECT id, 'override', trust_level, 'verified', 'system:migration-0008', "
        "'level set before verification records existed', CURRENT_TIMESTAMP "
        "FROM user_account WHERE trust_level > 2"))
    op.execute(sa.text(
        "UPDATE user_account SET id_document_type = 'id-number' "
        "WHERE id_number_sealed IS NOT NULL"))


def downgrade():
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.alter_column('id_number_hash', existing_type=sa.String(length=100),
                              type_=sa.String(length=64), existing_nullable=True)
        batch_op.drop_column('id_document_type')
    with op.batch_alter_table('identity_case', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_identity_case_status'))
    op.drop_table('identity_case')
    with op.batch_alter_table('identity_verification', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_identity_verification_fingerprint'))
        batch_op.drop_index(batch_op.f('ix_identity_verification_user_id'))
    op.drop_table('identity_verification')
