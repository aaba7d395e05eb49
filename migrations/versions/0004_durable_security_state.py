"""durable security state: lockout (login_guard), access-token revocations, the back-channel
logout outbox, the moment an account's sessions were all ended, and the token issuance log

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 15:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

EPOCH = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade():
    op.create_table('login_guard',
    sa.Column('subject', sa.String(length=80), nullable=False),
    sa.Column('slots', sa.Integer(), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('window_start', EPOCH, nullable=False),
    sa.Column('wait_until', EPOCH, nullable=True),
    sa.Column('locked_until', EPOCH, nullable=True),
    sa.PrimaryKeyConstraint('subject')
    )
    op.create_table('oauth_revoked_token',
    sa.Column('jti', sa.String(length=64), nullable=False),
    sa.Column('client_id', sa.String(length=80), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('jti')
    )
    with op.batch_alter_table('oauth_revoked_token', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_oauth_revoked_token_expires_at'), ['expires_at'], unique=False)
    op.create_table('backchannel_notice',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sid', sa.String(length=40), nullable=False),
    sa.Column('client_id', sa.String(length=80), nullable=False),
    sa.Column('user_id', sa.String(length=36), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_status', sa.Integer(), nullable=True),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('sid', 'client_id')
    )
    with op.batch_alter_table('backchannel_notice', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_backchannel_notice_delivered_at'), ['delivered_at'], unique=False)
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sessions_valid_after', EPOCH, nullable=True))
    op.create_table('token_issued',
    sa.Column('id', EPOCH, nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('grant_type', sa.String(length=40), nullable=False),
    sa.Column('client_id', sa.String(length=80), nullable=False),
    sa.Column('user_id', sa.String(length=36), nullable=True),
    sa.Column('grant_id', sa.String(length=40), nullable=True),
    sa.Column('jti', sa.String(length=64), nullable=False),
    sa.Column('scope', sa.String(length=500), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('token_issued', schema=None) as batch_op:
        for column in ('issued_at', 'client_id', 'user_id', 'grant_id'):
            batch_op.create_index(batch_op.f(f'ix_token_issued_{column}'), [column], unique=False)


def downgrade():
    op.drop_table('token_issued')
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_column('sessions_valid_after')
    with op.batch_alter_table('backchannel_notice', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_backchannel_notice_delivered_at'))
    op.drop_table('backchannel_notice')
    with op.batch_alter_table('oauth_revoked_token', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_oauth_revoked_token_expires_at'))
    op.drop_table('oauth_revoked_token')
    op.drop_table('login_guard')
