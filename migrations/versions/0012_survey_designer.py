"""the survey designer: a survey's owner (an organisation, or NULL for the partnership), who published a
version, and drafts (YAML as written, valid or not; never sent)

Revision ID: 0012
Revises: 0011

"""
import sqlalchemy as sa
from alembic import op


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('survey', schema=None) as batch_op:
        batch_op.add_column(sa.Column('organisation_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_survey_organisation_id_organisation', 'organisation',
                                    ['organisation_id'], ['id'], ondelete='SET NULL')
    with op.batch_alter_table('survey_version', schema=None) as batch_op:
        batch_op.add_column(sa.Column('published_by', sa.String(length=100), nullable=True))
    op.create_table(
        'survey_draft',
        sa.Column('survey_id', sa.String(length=64), nullable=False),
        sa.Column('organisation_id', sa.Integer(), nullable=True),
        sa.Column('yaml_text', sa.Text(), nullable=False),
        sa.Column('base_number', sa.Integer(), nullable=True),
        sa.Column('updated_by', sa.String(length=100), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'],
                                name='fk_survey_draft_organisation_id_organisation', ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('survey_id', name='pk_survey_draft'),
    )


def downgrade() -> None:
    op.drop_table('survey_draft')
    with op.batch_alter_table('survey_version', schema=None) as batch_op:
        batch_op.drop_column('published_by')
    with op.batch_alter_table('survey', schema=None) as batch_op:
        batch_op.drop_constraint('fk_survey_organisation_id_organisation', type_='foreignkey')
        batch_op.drop_column('organisation_id')
