"""messages.history_rev: bumped each time an email's verdicts are settled, so a writer
knows whether the history it kept in memory is still the stored one

Revision ID: 0011
Revises: 0010
"""
from alembic import op
import sqlalchemy as sa

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('messages') as batch:
        batch.add_column(sa.Column('history_rev', sa.Integer(), nullable=False, server_default='0'))


def downgrade():
    with op.batch_alter_table('messages') as batch:
        batch.drop_column('history_rev')
