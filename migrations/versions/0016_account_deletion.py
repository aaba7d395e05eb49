"""user_account.deletion_requested_at / purged_at: account deletion (注销账号) with a
cooling-off period, then erasure by `idp accounts purge-deleted` (issue 12)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-16 10:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('deletion_requested_at', sa.DateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column('purged_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_user_account_deletion_requested_at'),
                              ['deletion_requested_at'], unique=False)


def downgrade():
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_account_deletion_requested_at'))
        batch_op.drop_column('purged_at')
        batch_op.drop_column('deletion_requested_at')
