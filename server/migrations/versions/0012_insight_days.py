"""insights per day: insight_hit_days (insight_hours summed per UTC day) and
insight_email_days (the emails sent per day: totals, per recipient domain, per delay
bucket of the first open), and the index the exact median reads one bucket from

Revision ID: 0012
Revises: 0011

Both tables are filled from what is stored (server/insights_rollup.rebuild_days).
"""
from alembic import op
import sqlalchemy as sa

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'insight_hit_days',
        sa.Column('user_id', sa.Integer(), sa.ForeignKey('users.id', ondelete='CASCADE'), nullable=False),
        sa.Column('kind', sa.String(length=8), nullable=False),
        sa.Column('day', sa.DateTime(), nullable=False),
        sa.Column('verdict', sa.String(length=16), nullable=False),
        sa.Column('local_dow', sa.SmallInteger(), nullable=False),
        sa.Column('local_hour', sa.SmallInteger(), nullable=False),
        sa.Column('n', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('user_id', 'kind', 'day', 'verdict', 'local_dow', 'local_hour'),
    )
    op.create_table(
        'insight_email_days',
        sa.Column('user_id', sa.Integer(), sa.ForeignKey('users.id', ondelete='CASCADE'), nullable=False),
        sa.Column('day', sa.DateTime(), nullable=False),
        sa.Column('domain', sa.String(length=255), nullable=False),
        sa.Column('bucket', sa.SmallInteger(), nullable=False),
        sa.Column('emails', sa.Integer(), nullable=False),
        sa.Column('opened', sa.Integer(), nullable=False),
        sa.Column('clicked', sa.Integer(), nullable=False),
        sa.Column('known', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('user_id', 'day', 'domain', 'bucket'),
    )
    op.create_index('ix_messages_user_delay', 'messages', ['user_id', 'first_open_after', 'sent_at'])
    from server.insights_rollup import rebuild_days

    rebuild_days(op.get_bind())


def downgrade():
    op.drop_index('ix_messages_user_delay', table_name='messages')
    op.drop_table('insight_email_days')
    op.drop_table('insight_hit_days')
