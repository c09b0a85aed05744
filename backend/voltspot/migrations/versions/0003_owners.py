"""owners

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 12:14:48.209472
"""

import sqlalchemy as sa
from alembic import op

import voltspot.models.base

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('owners',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('password_hash', sa.String(length=256), nullable=True),
    sa.Column('is_admin', sa.Boolean(), nullable=False),
    sa.Column('oidc_issuer', sa.String(length=300), nullable=True),
    sa.Column('oidc_subject', sa.String(length=255), nullable=True),
    sa.Column('created_at', voltspot.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_login_at', voltspot.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_owners')),
    sa.UniqueConstraint('email', name=op.f('uq_owners_email')),
    sa.UniqueConstraint('oidc_issuer', 'oidc_subject', name=op.f('uq_owners_oidc_issuer'))
    )
    with op.batch_alter_table('id_tokens', schema=None) as batch_op:
        batch_op.add_column(sa.Column('owner_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_id_tokens_owner_id'), ['owner_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_id_tokens_owner_id_owners'), 'owners', ['owner_id'], ['id'])

    with op.batch_alter_table('sites', schema=None) as batch_op:
        batch_op.add_column(sa.Column('owner_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_sites_owner_id'), ['owner_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_sites_owner_id_owners'), 'owners', ['owner_id'], ['id'])

    with op.batch_alter_table('tariffs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('owner_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_tariffs_owner_id'), ['owner_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_tariffs_owner_id_owners'), 'owners', ['owner_id'], ['id'])



def downgrade() -> None:
    with op.batch_alter_table('tariffs', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_tariffs_owner_id_owners'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_tariffs_owner_id'))
        batch_op.drop_column('owner_id')

    with op.batch_alter_table('sites', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_sites_owner_id_owners'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_sites_owner_id'))
        batch_op.drop_column('owner_id')

    with op.batch_alter_table('id_tokens', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_id_tokens_owner_id_owners'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_id_tokens_owner_id'))
        batch_op.drop_column('owner_id')

    op.drop_table('owners')
