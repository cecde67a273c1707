"""free-text answers by the time they came (a partial index): the digest's and the dashboard's sentiment and
themes read a week's free-text answers, about a fifth of all answers

Revision ID: 0011
Revises: 0010

"""
import sqlalchemy as sa
from alembic import op


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

# As surveys.models.FREE_TEXT_SQL (free_text_answers() gives the same terms, in the same order).
FREE_TEXT_SQL = "raw_text IS NOT NULL AND (question_type IS NULL OR question_type = 'text' OR status = 'unparsed')"


def upgrade() -> None:
    with op.batch_alter_table('answer', schema=None) as batch_op:
        batch_op.create_index('ix_answer_free_text_answered', ['answered_at'], unique=False,
                              sqlite_where=sa.text(FREE_TEXT_SQL), postgresql_where=sa.text(FREE_TEXT_SQL))


def downgrade() -> None:
    with op.batch_alter_table('answer', schema=None) as batch_op:
        batch_op.drop_index('ix_answer_free_text_answered', sqlite_where=sa.text(FREE_TEXT_SQL),
                            postgresql_where=sa.text(FREE_TEXT_SQL))
