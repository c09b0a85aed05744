"""stations.plug_count: how many plugs a station is known to have (declared by its owner,
or read from the station), so status notifications for plugs beyond it are refused;
owners.refused_at: a provider identity an admin did not let in

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 08:10:00
"""

import sqlalchemy as sa
from alembic import op

import voltspot.models.base

revision = '0015'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Stations registered before this are left unknown (NULL): their connector rows may
    # include plugs learnt from hostile status notifications, so they are no declaration.
    # They learn plugs up to the cap until the station reports its own count.
    with op.batch_alter_table('stations') as batch:
        batch.add_column(sa.Column('plug_count', sa.Integer(), nullable=True))
    with op.batch_alter_table('owners') as batch:
        batch.add_column(sa.Column('refused_at', voltspot.models.base.UTCDateTime(timezone=True),
                                   nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('owners') as batch:
        batch.drop_column('refused_at')
    with op.batch_alter_table('stations') as batch:
        batch.drop_column('plug_count')
