"""access_*: departments, the item catalogue, business systems, their clients, login days,
the rollup and catalogue state, and monthly snapshots (access rates)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 10:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('access_department',
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('level', sa.String(length=16), nullable=False),
    sa.Column('division_code', sa.String(length=6), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('code')
    )
    with op.batch_alter_table('access_department', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_access_department_division_code'), ['division_code'], unique=False)

    op.create_table('access_item',
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('item_type', sa.String(length=16), nullable=False),
    sa.Column('department_code', sa.String(length=40), nullable=False),
    sa.Column('level', sa.String(length=16), nullable=False),
    sa.Column('division_code', sa.String(length=6), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['department_code'], ['access_department.code'], ),
    sa.PrimaryKeyConstraint('code')
    )
    with op.batch_alter_table('access_item', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_access_item_department_code'), ['department_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_access_item_division_code'), ['division_code'], unique=False)

    op.create_table('access_system',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('department_code', sa.String(length=40), nullable=False),
    sa.Column('contact', sa.String(length=200), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('last_login_day', sa.Date(), nullable=True),
    sa.Column('status_dates', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['department_code'], ['access_department.code'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code')
    )
    with op.batch_alter_table('access_system', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_access_system_department_code'), ['department_code'], unique=False)

    op.create_table('access_system_item',
    sa.Column('system_id', sa.Integer(), nullable=False),
    sa.Column('item_code', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['item_code'], ['access_item.code'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['system_id'], ['access_system.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('system_id', 'item_code')
    )
    with op.batch_alter_table('access_system_item', schema=None) as batch_op:
        batch_op.create_index('ix_access_system_item_item_code', ['item_code'], unique=False)

    op.create_table('access_system_client',
    sa.Column('client_id', sa.String(length=80), nullable=False),
    sa.Column('system_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['client_id'], ['oauth_client.client_id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['system_id'], ['access_system.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('client_id')
    )
    with op.batch_alter_table('access_system_client', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_access_system_client_system_id'), ['system_id'], unique=False)

    op.create_table('access_client_day',
    sa.Column('client_id', sa.String(length=80), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('logins', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('client_id', 'day')
    )
    with op.batch_alter_table('access_client_day', schema=None) as batch_op:
        batch_op.create_index('ix_access_client_day_day', ['day'], unique=False)

    op.create_table('access_state',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version', sa.String(length=32), nullable=False),
    sa.Column('rolled_through', sa.Date(), nullable=True),
    sa.Column('rolled_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('access_snapshot',
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('scope', sa.String(length=80), nullable=False),
    sa.Column('items', sa.Integer(), nullable=False),
    sa.Column('declared', sa.Integer(), nullable=False),
    sa.Column('verified', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('target', sa.Float(), nullable=False),
    sa.Column('taken_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('month', 'scope')
    )


def downgrade():
    op.drop_table('access_snapshot')
    op.drop_table('access_state')
    with op.batch_alter_table('access_client_day', schema=None) as batch_op:
        batch_op.drop_index('ix_access_client_day_day')
    op.drop_table('access_client_day')
    with op.batch_alter_table('access_system_client', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_access_system_client_system_id'))
    op.drop_table('access_system_client')
    with op.batch_alter_table('access_system_item', schema=None) as batch_op:
        batch_op.drop_index('ix_access_system_item_item_code')
    op.drop_table('access_system_item')
    with op.batch_alter_table('access_system', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_access_system_department_code'))
    op.drop_table('access_system')
    with op.batch_alter_table('access_item', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_access_item_division_code'))
        batch_op.drop_index(batch_op.f('ix_access_item_department_code'))
    op.drop_table('access_item')
    with op.batch_alter_table('access_department', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_access_department_division_code'))
    op.drop_table('access_department')
