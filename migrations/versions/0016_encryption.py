"""encryption at rest: columns holding contact details widen to 512 characters (a Fernet token with its
prefix is about 430 characters for a 254-character email address)

Revision ID: 0016
Revises: 0015

SQLite does not enforce VARCHAR lengths, and a batch "alter type" there would copy whole tables (the message
log among them) for nothing: only PostgreSQL is changed, where widening a varchar rewrites nothing.
"""
import sqlalchemy as sa
from alembic import op


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

COLUMNS = (('contact', 'address', 128), ('message', 'to_address', 254), ('safeguarding_contact', 'address', 254),
           ('staff_user', 'email', 254))


def upgrade() -> None:
    if op.get_bind().dialect.name == 'sqlite':
        return
    for table, column, before in COLUMNS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(column, existing_type=sa.String(length=before), type_=sa.String(length=512))


def downgrade() -> None:
    # Fails while encrypted values are stored: a token does not fit the old widths.
    if op.get_bind().dialect.name == 'sqlite':
        return
    for table, column, before in COLUMNS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(column, existing_type=sa.String(length=512), type_=sa.String(length=before))
