"""flag: the layer that raised it, its similarity score, and the outcome a person gave when closing it

Revision ID: 0007
Revises: 0006

"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('flag', schema=None) as batch_op:
        batch_op.add_column(sa.Column('layer', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('score', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('outcome', sa.String(length=16), nullable=True))
    # Every flag raised before this revision came from the lexicon; how closed ones were judged is unknown.
    op.execute("UPDATE flag SET layer = 'lexicon'")


def downgrade() -> None:
    with op.batch_alter_table('flag', schema=None) as batch_op:
        batch_op.drop_column('outcome')
        batch_op.drop_column('score')
        batch_op.drop_column('layer')
