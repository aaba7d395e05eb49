"""backchannel_notice.claimed_until: a sender claims a notice (a lease) before it POSTs it, so
two senders at once (another node's scheduler, `idp logout deliver` beside a delivery still
waiting for its answer) never both send it

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-14 10:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('backchannel_notice', schema=None) as batch_op:
        batch_op.add_column(sa.Column('claimed_until', sa.DateTime(timezone=True),
                                      nullable=True))


def downgrade():
    with op.batch_alter_table('backchannel_notice', schema=None) as batch_op:
        batch_op.drop_column('claimed_until')
