"""station events

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 12:21:26.218660
"""

import sqlalchemy as sa
from alembic import op

import voltspot.models.base

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('station_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('station_id', sa.Integer(), nullable=False),
    sa.Column('at', voltspot.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('connector_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=True),
    sa.ForeignKeyConstraint(['station_id'], ['stations.id'], name=op.f('fk_station_events_station_id_stations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_station_events'))
    )
    with op.batch_alter_table('station_events', schema=None) as batch_op:
        batch_op.create_index('ix_station_events_stream', ['station_id', 'connector_id', 'at', 'id'], unique=False)
        batch_op.create_index('ix_station_events_connections', ['station_id', 'at', 'id'], unique=False, postgresql_where=sa.text('connector_id IS NULL'), sqlite_where=sa.text('connector_id IS NULL'))
        batch_op.create_index('ix_station_events_faults', ['station_id', 'at'], unique=False, postgresql_where=sa.text("status = 'Faulted'"), sqlite_where=sa.text("status = 'Faulted'"))

    # The owner's sessions table (order, date and card filters) and the reports
    # (sessions started in a period, per station or network-wide), measured by
    # bench/owner_reports.py. No index includes a column the meter-value hot path
    # updates (energy_wh, power_w, last_sample_at), so those updates stay HOT.
    with op.batch_alter_table('charging_sessions', schema=None) as batch_op:
        batch_op.create_index('ix_charging_sessions_created', ['created_at', 'id'], unique=False)
        batch_op.create_index('ix_charging_sessions_station_created', ['station_id', 'created_at'], unique=False)
        batch_op.create_index('ix_charging_sessions_id_tag_created', ['id_tag', 'created_at'], unique=False)
        batch_op.create_index('ix_charging_sessions_started', ['started_at'], unique=False)
        batch_op.create_index('ix_charging_sessions_station_started', ['station_id', 'started_at'], unique=False)

    # History starts with the state stations are in now, so the uptime report knows it
    # from this moment on instead of waiting for each station's next connection.
    op.execute("INSERT INTO station_events (station_id, at, kind) "
               "SELECT id, connected_at, 'connected' FROM stations "
               "WHERE connected AND connected_at IS NOT NULL")
    op.execute("INSERT INTO station_events (station_id, at, kind) "
               "SELECT id, last_seen_at, 'disconnected' FROM stations "
               "WHERE NOT connected AND last_seen_at IS NOT NULL")
    op.execute("INSERT INTO station_events (station_id, at, kind, connector_id, status) "
               "SELECT id, status_at, 'status', 0, status FROM stations "
               "WHERE status IS NOT NULL AND status_at IS NOT NULL")
    op.execute("INSERT INTO station_events (station_id, at, kind, connector_id, status) "
               "SELECT station_id, status_at, 'status', connector_id, status FROM connectors "
               "WHERE status_at IS NOT NULL")


def downgrade() -> None:
    with op.batch_alter_table('charging_sessions', schema=None) as batch_op:
        batch_op.drop_index('ix_charging_sessions_station_started')
        batch_op.drop_index('ix_charging_sessions_started')
        batch_op.drop_index('ix_charging_sessions_id_tag_created')
        batch_op.drop_index('ix_charging_sessions_station_created')
        batch_op.drop_index('ix_charging_sessions_created')

    with op.batch_alter_table('station_events', schema=None) as batch_op:
        batch_op.drop_index('ix_station_events_faults', postgresql_where=sa.text("status = 'Faulted'"), sqlite_where=sa.text("status = 'Faulted'"))
        batch_op.drop_index('ix_station_events_connections', postgresql_where=sa.text('connector_id IS NULL'), sqlite_where=sa.text('connector_id IS NULL'))
        batch_op.drop_index('ix_station_events_stream')

    op.drop_table('station_events')
