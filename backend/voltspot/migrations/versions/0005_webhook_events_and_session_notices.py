"""webhook events and session notices

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 12:22:01.681331
"""

import sqlalchemy as sa
from alembic import op

import voltspot.models.base

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('webhook_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('provider', sa.String(length=16), nullable=False),
    sa.Column('event_id', sa.String(length=255), nullable=False),
    sa.Column('event_type', sa.String(length=100), nullable=False),
    sa.Column('received_at', voltspot.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_events')),
    sa.UniqueConstraint('provider', 'event_id', name=op.f('uq_webhook_events_provider'))
    )
    with op.batch_alter_table('charging_sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('notice', sa.String(length=300), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('charging_sessions', schema=None) as batch_op:
        batch_op.drop_column('notice')

    op.drop_table('webhook_events')
