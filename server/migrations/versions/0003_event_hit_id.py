"""events.hit_id: the id a hit got when it was answered, so spool replays store it once

Revision ID: 0003
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('events') as batch:
        batch.add_column(sa.Column('hit_id', sa.String(length=40), nullable=True))
        batch.create_unique_constraint('uq_events_hit_id', ['hit_id'])


def downgrade():
    with op.batch_alter_table('events') as batch:
        batch.drop_constraint('uq_events_hit_id', type_='unique')
        batch.drop_column('hit_id')
