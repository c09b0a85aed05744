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
        batch_op.create_index('ix_station_events_station_at', ['station_id', 'at'], unique=False)
        batch_op.create_index('ix_station_events_station_connector_at', ['station_id', 'connector_id', 'at'], unique=False)

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
    with op.batch_alter_table('station_events', schema=None) as batch_op:
        batch_op.drop_index('ix_station_events_station_connector_at')
        batch_op.drop_index('ix_station_events_station_at')

    op.drop_table('station_events')
