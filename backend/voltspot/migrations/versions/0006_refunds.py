"""refunds

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25 12:44:59.313642
"""

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('charging_sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('amount_refunded', sa.Integer(), nullable=False,
                                      server_default='0'))
        batch_op.add_column(sa.Column('refund_reason', sa.String(length=300), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('charging_sessions', schema=None) as batch_op:
        batch_op.drop_column('refund_reason')
        batch_op.drop_column('amount_refunded')
