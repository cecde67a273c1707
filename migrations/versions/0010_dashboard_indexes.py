"""dashboard indexes: invitations by the time they started (the digest's and dashboard's weeks of people
invited), answers by organisation and time (a week's answers of one organisation, or of none)

Revision ID: 0010
Revises: 0009

"""
from alembic import op


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('invitation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invitation_started_at'), ['started_at'], unique=False)
    with op.batch_alter_table('answer', schema=None) as batch_op:
        batch_op.create_index('ix_answer_organisation_answered', ['organisation_id', 'answered_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('answer', schema=None) as batch_op:
        batch_op.drop_index('ix_answer_organisation_answered')
    with op.batch_alter_table('invitation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_invitation_started_at'))
