"""load management: site limits, circuits, station and plug settings, the last
allocation per plug, site meter readings

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 04:42:15.489855
"""

import sqlalchemy as sa
from alembic import op

import voltspot.models.base

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('load_circuits',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('limit_amps', sa.Double(), nullable=False),
    sa.Column('phases', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['parent_id'], ['load_circuits.id'], name=op.f('fk_load_circuits_parent_id_load_circuits')),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_load_circuits_site_id_sites')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_load_circuits'))
    )
    with op.batch_alter_table('load_circuits', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_load_circuits_site_id'), ['site_id'], unique=False)

    op.create_table('site_load_settings',
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('limit_amps', sa.Double(), nullable=False),
    sa.Column('phases', sa.Integer(), nullable=False),
    sa.Column('limit_kw', sa.Double(), nullable=True),
    sa.Column('margin_amps', sa.Double(), nullable=False),
    sa.Column('min_amps', sa.Double(), nullable=False),
    sa.Column('hold_seconds', sa.Integer(), nullable=False),
    sa.Column('meter_key_hash', sa.String(length=128), nullable=True),
    sa.Column('meter_max_age_seconds', sa.Integer(), nullable=False),
    sa.Column('meter_fallback_amps', sa.Double(), nullable=False),
    sa.Column('computed_at', voltspot.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('updated_at', voltspot.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_site_load_settings_site_id_sites')),
    sa.PrimaryKeyConstraint('site_id', name=op.f('pk_site_load_settings'))
    )
    op.create_table('site_load_samples',
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('at', voltspot.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('limit_w', sa.Integer(), nullable=False),
    sa.Column('allocated_w', sa.Integer(), nullable=False),
    sa.Column('drawn_w', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_site_load_samples_site_id_sites')),
    sa.PrimaryKeyConstraint('site_id', 'at', name=op.f('pk_site_load_samples'))
    )
    op.create_table('site_meter_readings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('taken_at', voltspot.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('l1_amps', sa.Double(), nullable=False),
    sa.Column('l2_amps', sa.Double(), nullable=False),
    sa.Column('l3_amps', sa.Double(), nullable=False),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_site_meter_readings_site_id_sites')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_site_meter_readings'))
    )
    with op.batch_alter_table('site_meter_readings', schema=None) as batch_op:
        batch_op.create_index('ix_site_meter_readings_site_taken', ['site_id', 'taken_at'], unique=False)

    op.create_table('station_load_settings',
    sa.Column('station_id', sa.Integer(), nullable=False),
    sa.Column('circuit_id', sa.Integer(), nullable=True),
    sa.Column('max_amps', sa.Double(), nullable=True),
    sa.Column('phases', sa.Integer(), nullable=False),
    sa.Column('rejects_profiles', sa.Boolean(), nullable=False),
    sa.Column('stack_level_zero_only', sa.Boolean(), nullable=False),
    sa.Column('profile_kind', sa.String(length=16), nullable=False),
    sa.Column('charging_rate_unit', sa.String(length=8), nullable=True),
    sa.Column('max_stack_level', sa.Integer(), nullable=True),
    sa.Column('max_profiles_installed', sa.Integer(), nullable=True),
    sa.Column('settings_read_at', voltspot.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('fallback_amps', sa.Double(), nullable=True),
    sa.Column('fallback_installed_at', voltspot.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.String(length=300), nullable=True),
    sa.ForeignKeyConstraint(['circuit_id'], ['load_circuits.id'], name=op.f('fk_station_load_settings_circuit_id_load_circuits')),
    sa.ForeignKeyConstraint(['station_id'], ['stations.id'], name=op.f('fk_station_load_settings_station_id_stations')),
    sa.PrimaryKeyConstraint('station_id', name=op.f('pk_station_load_settings'))
    )
    with op.batch_alter_table('station_load_settings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_station_load_settings_circuit_id'), ['circuit_id'], unique=False)

    op.create_table('plug_loads',
    sa.Column('connector_pk', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=True),
    sa.Column('priority', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=True),
    sa.Column('amps', sa.Double(), nullable=True),
    sa.Column('target_amps', sa.Double(), nullable=True),
    sa.Column('paused', sa.Boolean(), nullable=False),
    sa.Column('pause_reason', sa.String(length=32), nullable=True),
    sa.Column('since', voltspot.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('drawn_amps', sa.Double(), nullable=True),
    sa.Column('applied_amps', sa.Double(), nullable=True),
    sa.Column('applied_at', voltspot.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('apply_error', sa.String(length=300), nullable=True),
    sa.Column('over_limit_since', voltspot.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['connector_pk'], ['connectors.id'], name=op.f('fk_plug_loads_connector_pk_connectors')),
    sa.ForeignKeyConstraint(['session_id'], ['charging_sessions.id'], name=op.f('fk_plug_loads_session_id_charging_sessions')),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_plug_loads_site_id_sites')),
    sa.PrimaryKeyConstraint('connector_pk', name=op.f('pk_plug_loads'))
    )
    with op.batch_alter_table('plug_loads', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_plug_loads_site_id'), ['site_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('plug_loads', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_plug_loads_site_id'))

    op.drop_table('plug_loads')
    with op.batch_alter_table('station_load_settings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_station_load_settings_circuit_id'))

    op.drop_table('station_load_settings')
    with op.batch_alter_table('site_meter_readings', schema=None) as batch_op:
        batch_op.drop_index('ix_site_meter_readings_site_taken')

    op.drop_table('site_meter_readings')
    op.drop_table('site_load_samples')
    op.drop_table('site_load_settings')
    with op.batch_alter_table('load_circuits', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_load_circuits_site_id'))

    op.drop_table('load_circuits')
