"""replies: the replies a tracked thread received (and the thread's first/last reply)

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


def downgrade():
    op.drop_table('replies')
    with op.batch_alter_table('threads', schema=None) as batch_op:
        batch_op.drop_column('last_reply_at')
        batch_op.drop_column('first_reply_at')
