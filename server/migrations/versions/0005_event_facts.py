"""events: the facts each hit's verdict is decided from, without the raw address

Revision ID: 0005
Revises: 0004

``facts`` holds the network the address is in (a /24 or /48), the ranges the full
address matched when the hit was answered, whether it was in the sender's office
ranges, its place and the prefetch headers: what ``engage reclassify`` needs to
decide the verdict again after the rules' data changed. Hits stored before this
column keep their verdict (NULL facts: settled).
"""
import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('events') as batch:
        batch.add_column(sa.Column('facts', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('events') as batch:
        batch.drop_column('facts')
