"""payment scans: an index on charging_sessions.payment_state for the sessions whose
payment is still open, which payment upkeep looks for every few seconds (a scan of every
session ever charged otherwise; partial on PostgreSQL, where it holds the open ones only)

Revision ID: 0016
Revises: 0014
Create Date: 2026-12-07 08:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0021'
branch_labels = None
depends_on = None

OPEN = sa.text("payment_state IN ('authorising', 'held', 'to_settle', 'to_release')")


def upgrade() -> None:
    op.create_index('ix_charging_sessions_payment_open', 'charging_sessions',
                    ['payment_state'], postgresql_where=OPEN)


def downgrade() -> None:
    op.drop_index('ix_charging_sessions_payment_open', table_name='charging_sessions')
