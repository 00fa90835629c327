"""replies and reminders: the replies a tracked thread received (and the thread's
first/last reply); follow-up reminders, delivered by the scheduler under a lease

Revision ID: 0009
Revises: 0008
"""
from alembic import op
import sqlalchemy as sa

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade():
    with op.batch_alter_table('threads', schema=None) as batch_op:
        batch_op.add_column(sa.Column('first_reply_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('last_reply_at', sa.DateTime(), nullable=True))
    op.create_table(
        'replies',
        sa.Column('id', BIG_ID, primary_key=True),
        sa.Column('user_id', sa.Integer(), sa.ForeignKey('users.id', ondelete='CASCADE'), nullable=False),
        sa.Column('thread_id', BIG_ID, sa.ForeignKey('threads.id', ondelete='CASCADE'), nullable=False),
        sa.Column('client_message_id', sa.String(length=300), nullable=False),
        sa.Column('from_address', sa.String(length=320), nullable=False),
        sa.Column('from_name', sa.String(length=300), nullable=False),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.UniqueConstraint('user_id', 'client_message_id', name='uq_replies_user_message'),
    )
    op.create_index('ix_replies_thread_at', 'replies', ['thread_id', 'at'])
    op.create_index('ix_replies_user_at', 'replies', ['user_id', 'at'])
    op.create_table(
        'reminders',
        sa.Column('id', BIG_ID, primary_key=True),
        sa.Column('public_id', sa.String(length=24), nullable=False, unique=True),
        sa.Column('user_id', sa.Integer(), sa.ForeignKey('users.id', ondelete='CASCADE'), nullable=False),
        sa.Column('thread_id', BIG_ID, sa.ForeignKey('threads.id', ondelete='CASCADE'), nullable=False),
        sa.Column('condition', sa.String(length=8), nullable=False),
        sa.Column('since', sa.DateTime(), nullable=False),
        sa.Column('due_at', sa.DateTime(), nullable=False),
        sa.Column('status', sa.String(length=12), nullable=False),
        sa.Column('fired_at', sa.DateTime(), nullable=True),
        sa.Column('fired_by', sa.String(length=60), nullable=True),
        sa.Column('notified_at', sa.DateTime(), nullable=True),
        sa.Column('lease_owner', sa.String(length=60), nullable=True),
        sa.Column('lease_until', sa.DateTime(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
    )
    op.create_index('ix_reminders_status_due', 'reminders', ['status', 'due_at'])
    op.create_index('ix_reminders_user_status', 'reminders', ['user_id', 'status', 'due_at'])
    op.create_index('ix_reminders_thread', 'reminders', ['thread_id'])


def downgrade():
    op.drop_table('reminders')
    op.drop_table('replies')
    with op.batch_alter_table('threads', schema=None) as batch_op:
        batch_op.drop_column('last_reply_at')
        batch_op.drop_column('first_reply_at')
