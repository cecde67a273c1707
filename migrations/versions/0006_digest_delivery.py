"""digest delivery: what became of a digest's sending (queued messages, or not sent and why); an index on
message.invitation_id (the digest counts only invitations whose message was sent)

Revision ID: 0006
Revises: 0005

"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_message_invitation_id'), ['invitation_id'], unique=False)
    with op.batch_alter_table('digest_archive', schema=None) as batch_op:
        batch_op.add_column(sa.Column('queued', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('not_sent_reason', sa.String(length=200), nullable=True))
    op.create_table('digest_delivery',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('archive_id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=True),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('queued_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['archive_id'], ['digest_archive.id'], name=op.f('fk_digest_delivery_archive_id_digest_archive'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['message_id'], ['message.id'], name=op.f('fk_digest_delivery_message_id_message'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_digest_delivery'))
    )
    with op.batch_alter_table('digest_delivery', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_digest_delivery_archive_id'), ['archive_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('digest_delivery', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_digest_delivery_archive_id'))
    op.drop_table('digest_delivery')
    with op.batch_alter_table('digest_archive', schema=None) as batch_op:
        batch_op.drop_column('not_sent_reason')
        batch_op.drop_column('queued')
    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_message_invitation_id'))
