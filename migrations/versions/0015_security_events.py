"""security_event: Security Event Tokens (RFC 8417) queued for business systems in the same
transaction as the account change (their claims; signed when sent), delivered by push
(RFC 8935) or poll (RFC 8936);
oauth_client.events_uri / events_delivery: how each business system receives them (issue 12)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-16 09:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'security_event',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('client_id', sa.String(length=80), nullable=False),
        sa.Column('jti', sa.String(length=64), nullable=False),
        sa.Column('kind', sa.String(length=40), nullable=False),
        sa.Column('payload', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('status', sa.String(length=12), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_error', sa.String(length=200), nullable=True),
        sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('acknowledged_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('claimed_until', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('jti'),
    )
    with op.batch_alter_table('security_event', schema=None) as batch_op:
        batch_op.create_index('ix_security_event_client_status', ['client_id', 'status', 'id'],
                              unique=False)
        batch_op.create_index('ix_security_event_status_due', ['status', 'next_attempt_at'],
                              unique=False)
    with op.batch_alter_table('oauth_client', schema=None) as batch_op:
        batch_op.add_column(sa.Column('events_uri', sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column('events_delivery', sa.String(length=10), nullable=True))


def downgrade():
    with op.batch_alter_table('oauth_client', schema=None) as batch_op:
        batch_op.drop_column('events_delivery')
        batch_op.drop_column('events_uri')
    with op.batch_alter_table('security_event', schema=None) as batch_op:
        batch_op.drop_index('ix_security_event_status_due')
        batch_op.drop_index('ix_security_event_client_status')
    op.drop_table('security_event')
