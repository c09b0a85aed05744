"""driver accounts: sign-in links, signed-in browsers, kept sessions, favourite sites,
emailed receipts and passkeys

Revision ID: 0018
Revises: 0014
Create Date: 2026-12-07 08:10:00
"""

import sqlalchemy as sa
from alembic import op

import voltspot.models.base

revision = '0018'
down_revision = '0019'
branch_labels = None
depends_on = None


def _when(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, voltspot.models.base.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        'driver_accounts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('email', sa.String(length=254), nullable=False),
        sa.Column('language', sa.String(length=8), nullable=False),
        _when('created_at'),
        _when('last_sign_in_at', nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_driver_accounts')),
        sa.UniqueConstraint('email', name=op.f('uq_driver_accounts_email')),
    )
    op.create_table(
        'driver_sign_in_links',
        sa.Column('token_digest', sa.String(length=64), nullable=False),
        sa.Column('email', sa.String(length=254), nullable=False),
        _when('created_at'),
        _when('expires_at'),
        _when('used_at', nullable=True),
        sa.PrimaryKeyConstraint('token_digest', name=op.f('pk_driver_sign_in_links')),
    )
    op.create_index('ix_driver_sign_in_links_email', 'driver_sign_in_links', ['email'])
    op.create_table(
        'driver_sign_ins',
        sa.Column('token_digest', sa.String(length=64), nullable=False),
        sa.Column('account_id', sa.Integer(), nullable=False),
        _when('created_at'),
        _when('last_seen_at'),
        sa.ForeignKeyConstraint(['account_id'], ['driver_accounts.id'], ondelete='CASCADE',
                                name=op.f('fk_driver_sign_ins_account_id_driver_accounts')),
        sa.PrimaryKeyConstraint('token_digest', name=op.f('pk_driver_sign_ins')),
    )
    op.create_index(op.f('ix_driver_sign_ins_account_id'), 'driver_sign_ins', ['account_id'])
    op.create_table(
        'driver_account_sessions',
        sa.Column('session_id', sa.Integer(), nullable=False),
        sa.Column('account_id', sa.Integer(), nullable=False),
        _when('attached_at'),
        sa.ForeignKeyConstraint(['session_id'], ['charging_sessions.id'], ondelete='CASCADE',
                                name=op.f('fk_driver_account_sessions_session_id_charging_sessions')),
        sa.ForeignKeyConstraint(['account_id'], ['driver_accounts.id'], ondelete='CASCADE',
                                name=op.f('fk_driver_account_sessions_account_id_driver_accounts')),
        sa.PrimaryKeyConstraint('session_id', name=op.f('pk_driver_account_sessions')),
    )
    op.create_index(op.f('ix_driver_account_sessions_account_id'), 'driver_account_sessions',
                    ['account_id'])
    op.create_table(
        'driver_favourite_sites',
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('site_id', sa.Integer(), nullable=False),
        _when('created_at'),
        sa.ForeignKeyConstraint(['account_id'], ['driver_accounts.id'], ondelete='CASCADE',
                                name=op.f('fk_driver_favourite_sites_account_id_driver_accounts')),
        sa.ForeignKeyConstraint(['site_id'], ['sites.id'], ondelete='CASCADE',
                                name=op.f('fk_driver_favourite_sites_site_id_sites')),
        sa.PrimaryKeyConstraint('account_id', 'site_id', name=op.f('pk_driver_favourite_sites')),
    )
    op.create_table(
        'driver_receipt_emails',
        sa.Column('session_id', sa.Integer(), nullable=False),
        sa.Column('account_id', sa.Integer(), nullable=True),
        _when('created_at'),
        sa.Column('attempts', sa.Integer(), nullable=False),
        _when('next_try_at'),
        sa.Column('last_error', sa.String(length=300), nullable=True),
        _when('sent_at', nullable=True),
        sa.ForeignKeyConstraint(['session_id'], ['charging_sessions.id'], ondelete='CASCADE',
                                name=op.f('fk_driver_receipt_emails_session_id_charging_sessions')),
        sa.ForeignKeyConstraint(['account_id'], ['driver_accounts.id'], ondelete='SET NULL',
                                name=op.f('fk_driver_receipt_emails_account_id_driver_accounts')),
        sa.PrimaryKeyConstraint('session_id', name=op.f('pk_driver_receipt_emails')),
    )
    op.create_index(op.f('ix_driver_receipt_emails_account_id'), 'driver_receipt_emails',
                    ['account_id'])
    op.create_index('ix_driver_receipt_emails_sent', 'driver_receipt_emails', ['sent_at'])
    op.create_table(
        'driver_passkeys',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('credential_id', sa.String(length=1400), nullable=False),
        sa.Column('public_key', sa.LargeBinary(), nullable=False),
        sa.Column('sign_count', sa.Integer(), nullable=False),
        _when('created_at'),
        _when('last_used_at', nullable=True),
        sa.ForeignKeyConstraint(['account_id'], ['driver_accounts.id'], ondelete='CASCADE',
                                name=op.f('fk_driver_passkeys_account_id_driver_accounts')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_driver_passkeys')),
        sa.UniqueConstraint('credential_id', name=op.f('uq_driver_passkeys_credential_id')),
    )
    op.create_index(op.f('ix_driver_passkeys_account_id'), 'driver_passkeys', ['account_id'])


def downgrade() -> None:
    op.drop_table('driver_passkeys')
    op.drop_table('driver_receipt_emails')
    op.drop_table('driver_favourite_sites')
    op.drop_table('driver_account_sessions')
    op.drop_table('driver_sign_ins')
    op.drop_index('ix_driver_sign_in_links_email', table_name='driver_sign_in_links')
    op.drop_table('driver_sign_in_links')
    op.drop_table('driver_accounts')
