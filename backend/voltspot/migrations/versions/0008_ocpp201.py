"""OCPP 2.0.1: charger-chosen transaction ids, transaction event sequence numbers, the
station's device model and its preferred OCPP version

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25 14:20:00
"""

import sqlalchemy as sa
from alembic import op

import voltspot.models.base

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # 2.0.1 idTokens are up to 36 characters (1.6 idTags 20).
    with op.batch_alter_table('id_tokens', schema=None) as batch_op:
        batch_op.alter_column('id_tag', type_=sa.String(length=36),
                              existing_type=sa.String(length=20))
        batch_op.alter_column('parent_id_tag', type_=sa.String(length=36),
                              existing_type=sa.String(length=20))
    with op.batch_alter_table('charging_sessions', schema=None) as batch_op:
        batch_op.alter_column('id_tag', type_=sa.String(length=36),
                              existing_type=sa.String(length=20))
        batch_op.add_column(sa.Column('charger_transaction_id', sa.String(length=36),
                                      nullable=True))
        batch_op.add_column(sa.Column('evse_connector_id', sa.Integer(), nullable=True))
        batch_op.create_unique_constraint(
            'uq_charging_sessions_station_charger_transaction',
            ['station_id', 'charger_transaction_id'])
    # 1.6 transactions already recorded: the id on the wire is the one we assigned.
    op.execute("UPDATE charging_sessions SET charger_transaction_id = "
               "CAST(transaction_id AS VARCHAR(36)) WHERE transaction_id IS NOT NULL")

    with op.batch_alter_table('stations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ocpp_version_preferred', sa.String(length=8),
                                      nullable=True))
        batch_op.add_column(sa.Column('boot_reason', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('device_model', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('device_model_at', voltspot.models.base.UTCDateTime(timezone=True), nullable=True))

    op.create_table(
        'transaction_events',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('station_id', sa.Integer(), nullable=False),
        sa.Column('charger_transaction_id', sa.String(length=36), nullable=False),
        sa.Column('seq_no', sa.Integer(), nullable=False),
        sa.Column('event_type', sa.String(length=8), nullable=False),
        sa.Column('trigger_reason', sa.String(length=32), nullable=False),
        sa.Column('at', voltspot.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['station_id'], ['stations.id'],
                                name=op.f('fk_transaction_events_station_id_stations')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_transaction_events')),
        sa.UniqueConstraint('station_id', 'charger_transaction_id', 'seq_no',
                            name='uq_transaction_events_station_transaction_seq'),
    )
    op.create_index('ix_transaction_events_at', 'transaction_events', ['at'], unique=False)


def downgrade() -> None:
    op.drop_table('transaction_events')
    with op.batch_alter_table('stations', schema=None) as batch_op:
        batch_op.drop_column('device_model_at')
        batch_op.drop_column('device_model')
        batch_op.drop_column('boot_reason')
        batch_op.drop_column('ocpp_version_preferred')
    with op.batch_alter_table('charging_sessions', schema=None) as batch_op:
        batch_op.drop_constraint('uq_charging_sessions_station_charger_transaction',
                                 type_='unique')
        batch_op.drop_column('evse_connector_id')
        batch_op.drop_column('charger_transaction_id')
