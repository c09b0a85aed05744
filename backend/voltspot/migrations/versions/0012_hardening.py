"""hardening: a site's own tariff, which plugs added to the site later get

Revision ID: 0012
Revises: 0009
Create Date: 2026-12-07 06:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('sites') as batch:
        batch.add_column(sa.Column('tariff_id', sa.Integer(), nullable=True))
        batch.create_foreign_key('fk_sites_tariff_id_tariffs', 'tariffs', ['tariff_id'],
                                 ['id'], ondelete='SET NULL')


def downgrade() -> None:
    with op.batch_alter_table('sites') as batch:
        batch.drop_constraint('fk_sites_tariff_id_tariffs', type_='foreignkey')
        batch.drop_column('tariff_id')
