"""insights: the org's team-view setting (off by default), each email's counted
first open (seconds after sending) and first click, and answered hits per user and hour (insight_hours)

Revision ID: 0010
Revises: 0009

The new columns and rows are filled from the stored events
(server/insights_rollup.rebuild), so existing installations see their history.
"""
from alembic import op
import sqlalchemy as sa

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    # Admins see every member's figures only once an admin turned this on.
    op.add_column('orgs', sa.Column('team_insights', sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table('messages') as batch:
        batch.add_column(sa.Column('first_open_after', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('first_click_at', sa.DateTime(), nullable=True))
        batch.add_column(sa.Column('engaged', sa.Integer(), nullable=False, server_default='0'))
    op.create_index('ix_messages_user_sent', 'messages',
                    ['user_id', 'sent_at', 'first_open_after', 'first_click_at', 'engaged', 'domains', 'client', 'id'])
    op.create_index('ix_messages_user_engaged', 'messages', ['user_id', 'engaged', 'sent_at'])
    op.create_index('ix_threads_user_reply', 'threads', ['user_id', 'last_reply_at'])
    op.create_table(
        'insight_hours',
        sa.Column('user_id', sa.Integer(), sa.ForeignKey('users.id', ondelete='CASCADE'), nullable=False),
        sa.Column('hour', sa.DateTime(), nullable=False),
        sa.Column('kind', sa.String(length=8), nullable=False),
        sa.Column('verdict', sa.String(length=16), nullable=False),
        sa.Column('local_dow', sa.SmallInteger(), nullable=False),
        sa.Column('local_hour', sa.SmallInteger(), nullable=False),
        sa.Column('n', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('user_id', 'hour', 'kind', 'verdict', 'local_dow', 'local_hour'),
    )
    from server.insights_rollup import rebuild_with

    rebuild_with(op.get_bind())


def downgrade():
    op.drop_table('insight_hours')
    op.drop_index('ix_threads_user_reply', table_name='threads')
    op.drop_index('ix_messages_user_engaged', table_name='messages')
    op.drop_index('ix_messages_user_sent', table_name='messages')
    with op.batch_alter_table('messages') as batch:
        batch.drop_column('engaged')
        batch.drop_column('first_click_at')
        batch.drop_column('first_open_after')
    with op.batch_alter_table('orgs') as batch:
        batch.drop_column('team_insights')
