"""OCPI 2.2.1 roaming: partners, their tokens, the push outbox, roaming sessions (the
roaming partner of a charging session) and CDRs, and a per-site "publish to roaming"
switch

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 05:05:59
"""

import sqlalchemy as sa
from alembic import op

import voltspot.models.base

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ocpi_published',
    sa.Column('object_key', sa.String(length=64), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('at', voltspot.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('object_key', name=op.f('pk_ocpi_published'))
    )
    op.create_table('ocpi_partners',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('country_code', sa.String(length=2), nullable=True),
    sa.Column('party_id', sa.String(length=3), nullable=True),
    sa.Column('business_name', sa.String(length=100), nullable=True),
    sa.Column('roles', sa.JSON(), nullable=False),
    sa.Column('token_a_digest', sa.String(length=64), nullable=True),
    sa.Column('token_c_digest', sa.String(length=64), nullable=True),
    sa.Column('their_token', sa.String(length=255), nullable=True),
    sa.Column('versions_url', sa.String(length=255), nullable=True),
    sa.Column('version', sa.String(length=8), nullable=True),
    sa.Column('endpoints', sa.JSON(), nullable=False),
    sa.Column('offline_policy', sa.String(length=16), nullable=False),
    sa.Column('last_push_at', voltspot.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.String(length=300), nullable=True),
    sa.Column('last_error_at', voltspot.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('registered_at', voltspot.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', voltspot.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['owner_id'], ['owners.id'], name=op.f('fk_ocpi_partners_owner_id_owners')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ocpi_partners')),
    sa.UniqueConstraint('name', name=op.f('uq_ocpi_partners_name')),
    sa.UniqueConstraint('token_a_digest', name=op.f('uq_ocpi_partners_token_a_digest')),
    sa.UniqueConstraint('token_c_digest', name=op.f('uq_ocpi_partners_token_c_digest'))
    )
    with op.batch_alter_table('ocpi_partners', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ocpi_partners_owner_id'), ['owner_id'], unique=False)

    op.create_table('ocpi_outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('object_key', sa.String(length=64), nullable=False),
    sa.Column('module', sa.String(length=24), nullable=False),
    sa.Column('method', sa.String(length=8), nullable=False),
    sa.Column('path', sa.String(length=300), nullable=False),
    sa.Column('body', sa.JSON(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', voltspot.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_error', sa.String(length=300), nullable=True),
    sa.Column('created_at', voltspot.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sent_at', voltspot.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['partner_id'], ['ocpi_partners.id'], name=op.f('fk_ocpi_outbox_partner_id_ocpi_partners')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ocpi_outbox'))
    )
    with op.batch_alter_table('ocpi_outbox', schema=None) as batch_op:
        batch_op.create_index('ix_ocpi_outbox_due', ['state', 'next_attempt_at'], unique=False)
        batch_op.create_index('ix_ocpi_outbox_key', ['partner_id', 'object_key', 'id'], unique=False)

    op.create_table('ocpi_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('country_code', sa.String(length=2), nullable=False),
    sa.Column('party_id', sa.String(length=3), nullable=False),
    sa.Column('uid', sa.String(length=36), nullable=False),
    sa.Column('type', sa.String(length=16), nullable=False),
    sa.Column('contract_id', sa.String(length=36), nullable=False),
    sa.Column('valid', sa.Boolean(), nullable=False),
    sa.Column('whitelist', sa.String(length=16), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('last_updated', voltspot.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('seen_valid_at', voltspot.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['partner_id'], ['ocpi_partners.id'], name=op.f('fk_ocpi_tokens_partner_id_ocpi_partners')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ocpi_tokens')),
    sa.UniqueConstraint('partner_id', 'uid', 'type', name='uq_ocpi_tokens_partner_uid_type')
    )
    with op.batch_alter_table('ocpi_tokens', schema=None) as batch_op:
        batch_op.create_index('ix_ocpi_tokens_uid', ['uid'], unique=False)

    op.create_table('ocpi_cdrs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('ocpi_id', sa.String(length=39), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('created_at', voltspot.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('acknowledged_at', voltspot.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('partner_url', sa.String(length=255), nullable=True),
    sa.ForeignKeyConstraint(['partner_id'], ['ocpi_partners.id'], name=op.f('fk_ocpi_cdrs_partner_id_ocpi_partners')),
    sa.ForeignKeyConstraint(['session_id'], ['charging_sessions.id'], name=op.f('fk_ocpi_cdrs_session_id_charging_sessions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ocpi_cdrs')),
    sa.UniqueConstraint('ocpi_id', name=op.f('uq_ocpi_cdrs_ocpi_id')),
    sa.UniqueConstraint('session_id', name=op.f('uq_ocpi_cdrs_session_id'))
    )
    with op.batch_alter_table('ocpi_cdrs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ocpi_cdrs_partner_id'), ['partner_id'], unique=False)

    op.create_table('ocpi_sessions',
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('ocpi_id', sa.String(length=36), nullable=False),
    sa.Column('cdr_token', sa.JSON(), nullable=False),
    sa.Column('auth_method', sa.String(length=16), nullable=False),
    sa.Column('authorization_reference', sa.String(length=36), nullable=True),
    sa.Column('location_id', sa.String(length=36), nullable=False),
    sa.Column('evse_uid', sa.String(length=36), nullable=False),
    sa.Column('connector_id', sa.String(length=36), nullable=False),
    sa.Column('response_url', sa.String(length=255), nullable=True),
    sa.Column('pushed', sa.JSON(), nullable=True),
    sa.Column('created_at', voltspot.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['partner_id'], ['ocpi_partners.id'], name=op.f('fk_ocpi_sessions_partner_id_ocpi_partners')),
    sa.ForeignKeyConstraint(['session_id'], ['charging_sessions.id'], name=op.f('fk_ocpi_sessions_session_id_charging_sessions')),
    sa.PrimaryKeyConstraint('session_id', name=op.f('pk_ocpi_sessions')),
    sa.UniqueConstraint('ocpi_id', name=op.f('uq_ocpi_sessions_ocpi_id'))
    )
    with op.batch_alter_table('ocpi_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ocpi_sessions_partner_id'), ['partner_id'], unique=False)

    # Added and dropped in place: rebuilding ``sites`` (SQLite's batch mode) would fail on
    # the stations and sessions that refer to it.
    op.add_column('sites', sa.Column('publish_to_roaming', sa.Boolean(), nullable=False,
                                     server_default=sa.false()))



def downgrade() -> None:
    with op.batch_alter_table('sites', recreate='never') as batch_op:
        batch_op.drop_column('publish_to_roaming')

    with op.batch_alter_table('ocpi_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ocpi_sessions_partner_id'))

    op.drop_table('ocpi_sessions')
    with op.batch_alter_table('ocpi_cdrs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ocpi_cdrs_partner_id'))

    op.drop_table('ocpi_cdrs')
    with op.batch_alter_table('ocpi_tokens', schema=None) as batch_op:
        batch_op.drop_index('ix_ocpi_tokens_uid')

    op.drop_table('ocpi_tokens')
    with op.batch_alter_table('ocpi_outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_ocpi_outbox_key')
        batch_op.drop_index('ix_ocpi_outbox_due')

    op.drop_table('ocpi_outbox')
    with op.batch_alter_table('ocpi_partners', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ocpi_partners_owner_id'))

    op.drop_table('ocpi_partners')
    op.drop_table('ocpi_published')
