"""agreement_acceptance: who accepted which version of the 用户服务协议 and 隐私政策;
user_account.username_chosen: False for usernames the platform made up at self-registration,
which the pages never show

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 00:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'agreement_acceptance',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.String(length=36), nullable=False),
        sa.Column('document', sa.String(length=20), nullable=False),
        sa.Column('version', sa.String(length=32), nullable=False),
        sa.Column('accepted_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('user_id', 'document', 'version'),
    )
    with op.batch_alter_table('agreement_acceptance', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agreement_acceptance_user_id'), ['user_id'],
                              unique=False)
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('username_chosen', sa.Boolean(), nullable=False,
                                      server_default=sa.true()))
    # Self-registration made usernames "u" + 10 hex digits (accounts.services.register): those
    # were never chosen. No other path makes names of that shape without the person choosing.
    op.execute("UPDATE user_account SET username_chosen = false "
               "WHERE username LIKE 'u__________' AND length(username) = 11 "
               "AND phone IS NOT NULL")


def downgrade():
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_column('username_chosen')
    with op.batch_alter_table('agreement_acceptance', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agreement_acceptance_user_id'))
    op.drop_table('agreement_acceptance')
