"""oauth_used_assertion: the private_key_jwt replay cache, durable

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 16:50:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('oauth_used_assertion',
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    with op.batch_alter_table('oauth_used_assertion', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_oauth_used_assertion_expires_at'), ['expires_at'], unique=False)


def downgrade():
    with op.batch_alter_table('oauth_used_assertion', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_oauth_used_assertion_expires_at'))
    op.drop_table('oauth_used_assertion')
