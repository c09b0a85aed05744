"""owner product: drivers' problem reports, outages excluded from the reliability figures,
and the QR stickers as printed

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 05:40:00
"""

import sqlalchemy as sa
from alembic import op

import voltspot.models.base

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def _when(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, voltspot.models.base.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        'problem_reports',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('station_id', sa.Integer(), nullable=False),
        sa.Column('connector_pk', sa.Integer(), nullable=False),
        sa.Column('message', sa.String(length=1000), nullable=False),
        _when('reported_at'),
        _when('handled_at', nullable=True),
        sa.ForeignKeyConstraint(['station_id'], ['stations.id'],
                                name=op.f('fk_problem_reports_station_id_stations')),
        sa.ForeignKeyConstraint(['connector_pk'], ['connectors.id'],
                                name=op.f('fk_problem_reports_connector_pk_connectors')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_problem_reports')),
    )
    op.create_index('ix_problem_reports_station_open', 'problem_reports',
                    ['station_id', 'handled_at'])
    op.create_table(
        'outage_exclusions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('station_id', sa.Integer(), nullable=False),
        sa.Column('connector_id', sa.Integer(), nullable=False),
        _when('start_at'),
        _when('end_at'),
        sa.Column('cause', sa.String(length=40), nullable=False),
        sa.Column('reason', sa.String(length=300), nullable=False),
        sa.Column('owner_id', sa.Integer(), nullable=True),
        _when('created_at'),
        sa.ForeignKeyConstraint(['station_id'], ['stations.id'],
                                name=op.f('fk_outage_exclusions_station_id_stations')),
        sa.ForeignKeyConstraint(['owner_id'], ['owners.id'],
                                name=op.f('fk_outage_exclusions_owner_id_owners')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_outage_exclusions')),
    )
    op.create_index('ix_outage_exclusions_station', 'outage_exclusions',
                    ['station_id', 'start_at'])
    op.create_table(
        'sticker_prints',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('connector_pk', sa.Integer(), nullable=False),
        sa.Column('price_lines', sa.JSON(), nullable=False),
        _when('printed_at'),
        sa.ForeignKeyConstraint(['connector_pk'], ['connectors.id'],
                                name=op.f('fk_sticker_prints_connector_pk_connectors')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_sticker_prints')),
    )
    op.create_index('ix_sticker_prints_connector', 'sticker_prints',
                    ['connector_pk', 'printed_at'])


def downgrade() -> None:
    op.drop_index('ix_sticker_prints_connector', table_name='sticker_prints')
    op.drop_table('sticker_prints')
    op.drop_index('ix_outage_exclusions_station', table_name='outage_exclusions')
    op.drop_table('outage_exclusions')
    op.drop_index('ix_problem_reports_station_open', table_name='problem_reports')
    op.drop_table('problem_reports')
