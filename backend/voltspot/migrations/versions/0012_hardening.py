"""hardening: a site's own tariff, which plugs added to the site later get

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 06:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN: rebuilding ``sites`` (SQLite's batch mode) would drop a table
    # the stations refer to. SQLite cannot add the foreign key to an existing table.
    op.add_column('sites', sa.Column('tariff_id', sa.Integer(), nullable=True))
    if op.get_bind().dialect.name != 'sqlite':
        op.create_foreign_key('fk_sites_tariff_id_tariffs', 'sites', 'tariffs', ['tariff_id'],
                              ['id'], ondelete='SET NULL')


def downgrade() -> None:
    if op.get_bind().dialect.name != 'sqlite':
        op.drop_constraint('fk_sites_tariff_id_tariffs', 'sites', type_='foreignkey')
    op.drop_column('sites', 'tariff_id')
