"""erasure tombstones: by whom, on what request, what was removed (counts), and the receipt sent

Revision ID: 0015
Revises: 0014

"""
import sqlalchemy as sa
from alembic import op


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('erasure', schema=None) as batch_op:
        batch_op.add_column(sa.Column('by', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('request', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('removed', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('receipt', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('receipt_message_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_erasure_receipt_message_id_message', 'message',
                                    ['receipt_message_id'], ['id'], ondelete='SET NULL')


def downgrade() -> None:
    with op.batch_alter_table('erasure', schema=None) as batch_op:
        batch_op.drop_constraint('fk_erasure_receipt_message_id_message', type_='foreignkey')
        batch_op.drop_column('receipt_message_id')
        batch_op.drop_column('receipt')
        batch_op.drop_column('removed')
        batch_op.drop_column('request')
        batch_op.drop_column('by')
