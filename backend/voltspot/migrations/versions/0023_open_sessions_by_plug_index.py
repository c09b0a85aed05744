"""charging sessions: an index of the sessions open on each plug, which every status
notification and transaction start looks for. Without it PostgreSQL, before its
statistics caught up with a reconnect storm, read every open session by start time for
each start.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07 23:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_charging_sessions_open_plug', 'charging_sessions',
                    ['station_id', 'connector_id'],
                    postgresql_where=sa.text('stopped_at IS NULL'),
                    sqlite_where=sa.text('stopped_at IS NULL'))


def downgrade() -> None:
    op.drop_index('ix_charging_sessions_open_plug', table_name='charging_sessions')
