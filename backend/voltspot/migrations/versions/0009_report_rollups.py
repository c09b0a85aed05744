"""report rollups: closed sessions per site (and network-wide) per UTC hour and currency,
filled from the sessions already closed; an index on the open sessions' start

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-25 16:00:00
"""

import sqlalchemy as sa
from alembic import op

import voltspot.models.base

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

# The same figures voltspot.services.reports.totals.recount_session_totals computes, written out
# here so this revision keeps meaning what it meant when later ones change the models.
_BILLED = "s.currency IS NOT NULL AND s.cost IS NOT NULL"
_BILLED_CURRENCY = f"CASE WHEN {_BILLED} THEN s.currency ELSE '' END"
_FIGURES = (f"{_BILLED_CURRENCY}, count(*), coalesce(sum(s.energy_wh), 0), "
            f"sum(CASE WHEN {_BILLED} THEN s.cost ELSE 0 END)")
_CLOSED = "s.started_at IS NOT NULL AND s.stopped_at IS NOT NULL"


def _utc_hour(dialect: str) -> str:
    """The start of the UTC hour of ``s.started_at``, stored as the column type stores it
    (SQLite: the text SQLAlchemy writes)."""
    if dialect == "sqlite":
        return "strftime('%Y-%m-%d %H:00:00.000000', s.started_at)"
    return "timezone('UTC', date_trunc('hour', timezone('UTC', s.started_at)))"


def _totals_columns() -> list[sa.Column]:
    return [
        sa.Column('hour_start', voltspot.models.base.UTCDateTime(timezone=True),
                  nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=False),
        sa.Column('sessions', sa.Integer(), nullable=False),
        sa.Column('energy_wh', sa.BigInteger(), nullable=False),
        sa.Column('revenue', sa.BigInteger(), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        'network_hour_totals',
        *_totals_columns(),
        sa.PrimaryKeyConstraint('hour_start', 'currency', name=op.f('pk_network_hour_totals')),
    )
    op.create_table(
        'site_hour_totals',
        *_totals_columns(),
        sa.Column('site_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['site_id'], ['sites.id'],
                                name=op.f('fk_site_hour_totals_site_id_sites')),
        sa.PrimaryKeyConstraint('site_id', 'hour_start', 'currency',
                                name=op.f('pk_site_hour_totals')),
    )
    with op.batch_alter_table('charging_sessions', schema=None) as batch_op:
        batch_op.create_index('ix_charging_sessions_open_started', ['started_at'], unique=False,
                              postgresql_where=sa.text('stopped_at IS NULL'),
                              sqlite_where=sa.text('stopped_at IS NULL'))

    hour = _utc_hour(op.get_bind().dialect.name)
    op.execute(
        "INSERT INTO network_hour_totals (hour_start, currency, sessions, energy_wh, revenue) "
        f"SELECT {hour}, {_FIGURES} FROM charging_sessions s WHERE {_CLOSED} "
        f"GROUP BY {hour}, {_BILLED_CURRENCY}")
    op.execute(
        "INSERT INTO site_hour_totals "
        "(site_id, hour_start, currency, sessions, energy_wh, revenue) "
        f"SELECT st.site_id, {hour}, {_FIGURES} FROM charging_sessions s "
        "JOIN stations st ON st.id = s.station_id "
        f"WHERE {_CLOSED} AND st.site_id IS NOT NULL "
        f"GROUP BY st.site_id, {hour}, {_BILLED_CURRENCY}")


def downgrade() -> None:
    with op.batch_alter_table('charging_sessions', schema=None) as batch_op:
        batch_op.drop_index('ix_charging_sessions_open_started',
                            postgresql_where=sa.text('stopped_at IS NULL'),
                            sqlite_where=sa.text('stopped_at IS NULL'))
    op.drop_table('site_hour_totals')
    op.drop_table('network_hour_totals')
