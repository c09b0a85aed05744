"""meter samples: drop the index on station_id, which no query reads: samples are read by
session. Every sample inserted paid for it with a random page of the index.

Revision ID: 0022
Revises: 0016
Create Date: 2026-12-07 15:50:00
"""

from alembic import op

revision = '0022'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index('ix_meter_samples_station_id', table_name='meter_samples')


def downgrade() -> None:
    op.create_index('ix_meter_samples_station_id', 'meter_samples', ['station_id'])
