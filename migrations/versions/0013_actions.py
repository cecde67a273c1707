"""closing the loop: the action register (action, its history), "you said, we did" messages and replies

Revision ID: 0013
Revises: 0012

"""
import sqlalchemy as sa
from alembic import op


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

T = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        'action',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('heard', sa.Text(), nullable=False),
        sa.Column('doing', sa.Text(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('why_not', sa.Text(), nullable=True),
        sa.Column('owner', sa.String(length=100), nullable=False),
        sa.Column('organisation_id', sa.Integer(), nullable=True),
        sa.Column('survey_id', sa.String(length=64), nullable=True),
        sa.Column('question_key', sa.String(length=64), nullable=True),
        sa.Column('theme', sa.String(length=100), nullable=True),
        sa.Column('since', T, nullable=True),
        sa.Column('until', T, nullable=True),
        sa.Column('audience', sa.String(length=16), nullable=False),
        sa.Column('cohort_tag', sa.String(length=64), nullable=True),
        sa.Column('message', sa.JSON(), nullable=True),
        sa.Column('due_on', T, nullable=True),
        sa.Column('done_at', T, nullable=True),
        sa.Column('created_by', sa.String(length=100), nullable=False),
        sa.Column('created_at', T, nullable=False),
        sa.Column('updated_at', T, nullable=False),
        sa.Column('published_at', T, nullable=True),
        sa.Column('published_by', sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'],
                                name='fk_action_organisation_id_organisation', ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name='pk_action'),
    )
    op.create_index('ix_action_organisation_id', 'action', ['organisation_id'])
    op.create_table(
        'action_event',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('action_id', sa.Integer(), nullable=False),
        sa.Column('at', T, nullable=False),
        sa.Column('actor', sa.String(length=100), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=True),
        sa.Column('note', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['action_id'], ['action.id'], name='fk_action_event_action_id_action',
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name='pk_action_event'),
    )
    op.create_index('ix_action_event_action_id', 'action_event', ['action_id'])
    op.create_table(
        'loop_message',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('action_id', sa.Integer(), nullable=False),
        sa.Column('contact_id', sa.Integer(), nullable=False),
        sa.Column('message_id', sa.Integer(), nullable=True),
        sa.Column('language', sa.String(length=16), nullable=False),
        sa.Column('not_before', T, nullable=False),
        sa.Column('created_at', T, nullable=False),
        sa.ForeignKeyConstraint(['action_id'], ['action.id'], name='fk_loop_message_action_id_action',
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['contact_id'], ['contact.id'], name='fk_loop_message_contact_id_contact',
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['message_id'], ['message.id'], name='fk_loop_message_message_id_message',
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name='pk_loop_message'),
        sa.UniqueConstraint('action_id', 'contact_id', name='uq_loop_message_action_id_contact_id'),
    )
    op.create_index('ix_loop_message_action_id', 'loop_message', ['action_id'])
    op.create_index('ix_loop_message_contact_id', 'loop_message', ['contact_id'])
    op.create_index('ix_loop_message_created_at', 'loop_message', ['created_at'])
    op.create_table(
        'action_reply',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('action_id', sa.Integer(), nullable=False),
        sa.Column('answer_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['action_id'], ['action.id'], name='fk_action_reply_action_id_action',
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['answer_id'], ['answer.id'], name='fk_action_reply_answer_id_answer',
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name='pk_action_reply'),
        sa.UniqueConstraint('answer_id', name='uq_action_reply_answer_id'),
    )
    op.create_index('ix_action_reply_action_id', 'action_reply', ['action_id'])


def downgrade() -> None:
    op.drop_table('action_reply')
    op.drop_table('loop_message')
    op.drop_table('action_event')
    op.drop_table('action')
