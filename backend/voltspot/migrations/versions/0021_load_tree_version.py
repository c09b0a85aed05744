"""load management: a version of each site's tree, so the load loop keeps the tree in
memory and reloads it only after a change

Revision ID: 0021
Revises: 0014
Create Date: 2026-12-07 08:05:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0021'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('site_load_settings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('tree_version', sa.Integer(), nullable=False,
                                      server_default='0'))


def downgrade() -> None:
    op.drop_column('site_load_settings', 'tree_version')
