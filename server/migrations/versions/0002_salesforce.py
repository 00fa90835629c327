"""salesforce: per-org configuration, record links, and the delivery outbox

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27

Written by hand. Only new tables, so nothing needs batch mode on SQLite; indexes
are created through batch_alter_table like 0001 does, which is a no-op wrapper on
PostgreSQL and keeps the two files alike.
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade():
    op.create_table(
        'salesforce_configs',
        sa.Column('org_id', sa.Integer(), nullable=False),
        sa.Column('enabled', sa.Boolean(), nullable=False),
        sa.Column('instance_url', sa.String(length=300), nullable=False),
        sa.Column('login_url', sa.String(length=300), nullable=True),
        sa.Column('auth_flow', sa.String(length=16), nullable=False),
        sa.Column('client_id', sa.String(length=300), nullable=False),
        sa.Column('username', sa.String(length=300), nullable=False),
        sa.Column('jwt_audience', sa.String(length=300), nullable=False),
        sa.Column('private_key_path', sa.String(length=1000), nullable=True),
        sa.Column('secrets_sealed', sa.Text(), nullable=True),
        sa.Column('sobject', sa.String(length=40), nullable=False),
        sa.Column('first_open_field', sa.String(length=80), nullable=False),
        sa.Column('last_open_field', sa.String(length=80), nullable=False),
        sa.Column('api_version', sa.String(length=8), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['org_id'], ['orgs.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('org_id'),
    )
    op.create_table(
        'salesforce_links',
        sa.Column('message_id', BIG_ID, nullable=False),
        sa.Column('sobject', sa.String(length=40), nullable=False),
        sa.Column('record_id', sa.String(length=18), nullable=False),
        sa.Column('source', sa.String(length=16), nullable=False),
        sa.Column('linked_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['message_id'], ['messages.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('message_id'),
    )
    op.create_table(
        'salesforce_outbox',
        sa.Column('id', BIG_ID, nullable=False),
        sa.Column('org_id', sa.Integer(), nullable=False),
        sa.Column('message_id', BIG_ID, nullable=False),
        sa.Column('first_open', sa.DateTime(), nullable=True),
        sa.Column('last_open', sa.DateTime(), nullable=True),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=12), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(), nullable=False),
        sa.Column('lease_owner', sa.String(length=40), nullable=True),
        sa.Column('lease_until', sa.DateTime(), nullable=True),
        sa.Column('reason', sa.String(length=80), nullable=True),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.Column('sobject', sa.String(length=40), nullable=True),
        sa.Column('record_id', sa.String(length=18), nullable=True),
        sa.Column('delivered_first_open', sa.DateTime(), nullable=True),
        sa.Column('delivered_last_open', sa.DateTime(), nullable=True),
        sa.Column('delivered_at', sa.DateTime(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['message_id'], ['messages.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['org_id'], ['orgs.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('message_id'),
    )
    with op.batch_alter_table('salesforce_outbox', schema=None) as batch_op:
        batch_op.create_index('ix_salesforce_outbox_due', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index('ix_salesforce_outbox_org_status', ['org_id', 'status', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('salesforce_outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_salesforce_outbox_org_status')
        batch_op.drop_index('ix_salesforce_outbox_due')
    op.drop_table('salesforce_outbox')
    op.drop_table('salesforce_links')
    op.drop_table('salesforce_configs')
