"""console operations: a flag's history (assign, note, close) and background export jobs

After 0008 (staff accounts).

Revision ID: 0009
Revises: 0007

"""
from alembic import op
import sqlalchemy as sa



revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'flag_event',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('flag_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('by', sa.String(length=100), nullable=False),
        sa.Column('assignee', sa.String(length=100), nullable=True),
        sa.Column('note', sa.Text(), nullable=True),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['flag_id'], ['flag.id'], name=op.f('fk_flag_event_flag_id_flag'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_flag_event')),
    )
    with op.batch_alter_table('flag_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_flag_event_flag_id'), ['flag_id'], unique=False)
    op.create_table(
        'export_job',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('role', sa.String(length=16), nullable=False),
        sa.Column('organisation_ids', sa.JSON(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('actor', sa.String(length=100), nullable=False),
        sa.Column('filter', sa.JSON(), nullable=False),
        sa.Column('format', sa.String(length=8), nullable=False),
        sa.Column('keep_personal_details', sa.Boolean(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('total', sa.Integer(), nullable=False),
        sa.Column('done', sa.Integer(), nullable=False),
        sa.Column('path', sa.String(length=500), nullable=True),
        sa.Column('error', sa.String(length=300), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_export_job')),
    )


def downgrade() -> None:
    op.drop_table('export_job')
    with op.batch_alter_table('flag_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_flag_event_flag_id'))
    op.drop_table('flag_event')
