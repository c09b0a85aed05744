"""find a spot indexes

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25 13:14:24.870119
"""

from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('sites', schema=None) as batch_op:
        batch_op.create_index('ix_sites_position', ['latitude', 'longitude'], unique=False)

    with op.batch_alter_table('stations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stations_site_id'), ['site_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('stations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stations_site_id'))

    with op.batch_alter_table('sites', schema=None) as batch_op:
        batch_op.drop_index('ix_sites_position')

