"""driver sessions and payments

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 12:05:28.720178
"""

import sqlalchemy as sa
from alembic import op

import voltspot.models.base

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('charging_sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('start_key', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('claimed_connector_pk', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('charging_ended_at', voltspot.models.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('currency', sa.String(length=3), nullable=True))
        batch_op.add_column(sa.Column('cost', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('bill', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('payment_state', sa.String(length=16), nullable=False, server_default='none'))
        batch_op.add_column(sa.Column('payment_reference', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('hold_amount', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('amount_captured', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('payment_error', sa.String(length=300), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_charging_sessions_claimed_connector_pk'), ['claimed_connector_pk'])
        batch_op.create_unique_constraint(batch_op.f('uq_charging_sessions_start_key'), ['start_key'])

    with op.batch_alter_table('tariffs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('windows', sa.JSON(), nullable=False, server_default='[]'))



def downgrade() -> None:
    with op.batch_alter_table('tariffs', schema=None) as batch_op:
        batch_op.drop_column('windows')

    with op.batch_alter_table('charging_sessions', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_charging_sessions_start_key'), type_='unique')
        batch_op.drop_constraint(batch_op.f('uq_charging_sessions_claimed_connector_pk'), type_='unique')
        batch_op.drop_column('payment_error')
        batch_op.drop_column('amount_captured')
        batch_op.drop_column('hold_amount')
        batch_op.drop_column('payment_reference')
        batch_op.drop_column('payment_state')
        batch_op.drop_column('bill')
        batch_op.drop_column('cost')
        batch_op.drop_column('currency')
        batch_op.drop_column('charging_ended_at')
        batch_op.drop_column('claimed_connector_pk')
        batch_op.drop_column('start_key')

