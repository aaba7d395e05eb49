"""oauth_client.tokens_valid_after: a disable kills every access token issued before it, even
after the client is enabled again

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30 18:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('oauth_client', schema=None) as batch_op:
        batch_op.add_column(sa.Column('tokens_valid_after',
                                      sa.BigInteger().with_variant(sa.Integer(), 'sqlite'),
                                      nullable=True))


def downgrade():
    with op.batch_alter_table('oauth_client', schema=None) as batch_op:
        batch_op.drop_column('tokens_valid_after')
