"""insights: the org's team-view setting (off by default) and an index for period sums

Revision ID: 0010
Revises: 0008

The lead renumbers ``down_revision`` to 0009 when the reply-signal migration is
merged before this one.
"""
from alembic import op
import sqlalchemy as sa

revision = '0010'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    # Admins see every member's figures only once an admin turned this on.
    op.add_column('orgs', sa.Column('team_insights', sa.Boolean(), nullable=False, server_default=sa.false()))
    # The insights' sums start from "this user's emails sent in the period".
    op.create_index('ix_messages_user_sent', 'messages', ['user_id', 'sent_at', 'id'])


def downgrade():
    op.drop_index('ix_messages_user_sent', table_name='messages')
    with op.batch_alter_table('orgs') as batch:
        batch.drop_column('team_insights')
