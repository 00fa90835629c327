"""threads: a covering index for the unread counter

Revision ID: 0004
Revises: 0003
"""
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

COLUMNS = ['user_id', 'last_activity_at', 'last_engagement_at', 'viewed_at', 'pinned', 'has_manual',
           'has_auto_external']


def upgrade():
    op.create_index('ix_threads_user_counter', 'threads', COLUMNS)


def downgrade():
    op.drop_index('ix_threads_user_counter', table_name='threads')
