"""web push: the VAPID key pair, drivers' push subscriptions and the notices queued for them

Revision ID: 0017
Revises: 0014
Create Date: 2026-12-07 08:00:00
"""

import sqlalchemy as sa
from alembic import op

import voltspot.models.base

revision = '0017'
down_revision = '0014'
branch_labels = None
depends_on = None


def _when(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, voltspot.models.base.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        'push_keys',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('private_key_pem', sa.Text(), nullable=False),
        sa.Column('public_key', sa.String(length=100), nullable=False),
        _when('created_at'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_push_keys')),
    )
    op.create_table(
        'push_subscriptions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('session_id', sa.Integer(), nullable=False),
        sa.Column('endpoint', sa.String(length=1000), nullable=False),
        sa.Column('p256dh', sa.String(length=200), nullable=False),
        sa.Column('auth', sa.String(length=100), nullable=False),
        sa.Column('language', sa.String(length=8), nullable=False),
        _when('created_at'),
        sa.ForeignKeyConstraint(['session_id'], ['charging_sessions.id'], ondelete='CASCADE',
                                name=op.f('fk_push_subscriptions_session_id_charging_sessions')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_push_subscriptions')),
        sa.UniqueConstraint('session_id', 'endpoint',
                            name='uq_push_subscriptions_session_endpoint'),
    )
    op.create_index(op.f('ix_push_subscriptions_session_id'), 'push_subscriptions',
                    ['session_id'])
    op.create_table(
        'push_notices',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('subscription_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=24), nullable=False),
        _when('created_at'),
        _when('next_attempt_at'),
        _when('done_at', nullable=True),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('last_error', sa.String(length=300), nullable=True),
        sa.ForeignKeyConstraint(['subscription_id'], ['push_subscriptions.id'],
                                ondelete='CASCADE',
                                name=op.f('fk_push_notices_subscription_id_push_subscriptions')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_push_notices')),
        sa.UniqueConstraint('subscription_id', 'kind', name='uq_push_notices_subscription_kind'),
    )
    op.create_index('ix_push_notices_due', 'push_notices', ['done_at', 'next_attempt_at'])


def downgrade() -> None:
    op.drop_index('ix_push_notices_due', table_name='push_notices')
    op.drop_table('push_notices')
    op.drop_index(op.f('ix_push_subscriptions_session_id'), table_name='push_subscriptions')
    op.drop_table('push_subscriptions')
    op.drop_table('push_keys')
