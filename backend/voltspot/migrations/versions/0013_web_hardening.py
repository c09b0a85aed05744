"""web hardening: owners an admin has not approved yet, and server-side owner sign-ins

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 05:30:00
"""

import sqlalchemy as sa
from alembic import op

import voltspot.models.base

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('owners', sa.Column('approved', sa.Boolean(), nullable=False,
                                      server_default=sa.true()))
    op.create_table('owner_sign_ins',
    sa.Column('token_digest', sa.String(length=64), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('created_at', voltspot.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', voltspot.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['owner_id'], ['owners.id'],
                            name=op.f('fk_owner_sign_ins_owner_id_owners'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('token_digest', name=op.f('pk_owner_sign_ins'))
    )
    with op.batch_alter_table('owner_sign_ins', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_owner_sign_ins_owner_id'), ['owner_id'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('owner_sign_ins', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_owner_sign_ins_owner_id'))
    op.drop_table('owner_sign_ins')
    # A plain ALTER TABLE (SQLite 3.35+): a batch copy would drop the owners table, which
    # sites, tariffs and cards still reference.
    op.drop_column('owners', 'approved')
