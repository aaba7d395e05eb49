"""oauth_revoked_token: access-token revocations kept durably (RFC 7009)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 15:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('oauth_revoked_token',
    sa.Column('jti', sa.String(length=64), nullable=False),
    sa.Column('client_id', sa.String(length=80), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('jti')
    )
    with op.batch_alter_table('oauth_revoked_token', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_oauth_revoked_token_expires_at'), ['expires_at'], unique=False)


def downgrade():
    with op.batch_alter_table('oauth_revoked_token', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_oauth_revoked_token_expires_at'))
    op.drop_table('oauth_revoked_token')
