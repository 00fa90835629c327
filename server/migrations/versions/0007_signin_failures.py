"""signin_failures: the sign-in limit in the database, shared by every server process

Revision ID: 0007
Revises: 0006
"""
from alembic import op
import sqlalchemy as sa

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'signin_failures',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), primary_key=True),
        sa.Column('key', sa.String(length=64), nullable=False),
        sa.Column('at', sa.DateTime(), nullable=False),
    )
    op.create_index('ix_signin_failures_key_at', 'signin_failures', ['key', 'at'])
    op.create_index('ix_signin_failures_at', 'signin_failures', ['at'])


def downgrade():
    op.drop_table('signin_failures')
