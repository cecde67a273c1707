"""retention: a record of each purge run (when, by what, the periods in force, counts per kind)

Revision ID: 0014
Revises: 0013

"""
import sqlalchemy as sa
from alembic import op


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'retention_run',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('source', sa.String(length=64), nullable=False),
        sa.Column('periods', sa.JSON(), nullable=False),
        sa.Column('counts', sa.JSON(), nullable=False),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_retention_run')),
    )
    with op.batch_alter_table('retention_run', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_retention_run_at'), ['at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('retention_run', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_retention_run_at'))
    op.drop_table('retention_run')
