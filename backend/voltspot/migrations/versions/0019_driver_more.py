"""driver: the operator's legal name and VAT number on receipts (per site), and whether a
plug is a socket or has its own cable

Revision ID: 0019
Revises: 0014
Create Date: 2026-12-07 08:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0019'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('sites', sa.Column('legal_name', sa.String(length=200), nullable=False,
                                     server_default=''))
    op.add_column('sites', sa.Column('vat_number', sa.String(length=40), nullable=False,
                                     server_default=''))
    op.add_column('connectors', sa.Column('tethered', sa.Boolean(), nullable=False,
                                          server_default=sa.false()))


def downgrade() -> None:
    # Plain ALTER TABLE … DROP COLUMN (SQLite 3.35+, PostgreSQL): no batch copy of tables
    # other tables point at.
    op.drop_column('connectors', 'tethered')
    op.drop_column('sites', 'vat_number')
    op.drop_column('sites', 'legal_name')
