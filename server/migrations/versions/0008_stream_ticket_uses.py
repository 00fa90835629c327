"""stream_ticket_uses: stream tickets are single-use

Revision ID: 0008
Revises: 0007
"""
from alembic import op
import sqlalchemy as sa

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'stream_ticket_uses',
        sa.Column('nonce', sa.String(length=32), primary_key=True),
        sa.Column('used_at', sa.DateTime(), nullable=False),
    )
    op.create_index('ix_stream_ticket_uses_used_at', 'stream_ticket_uses', ['used_at'])


def downgrade():
    op.drop_index('ix_stream_ticket_uses_used_at', table_name='stream_ticket_uses')
    op.drop_table('stream_ticket_uses')
