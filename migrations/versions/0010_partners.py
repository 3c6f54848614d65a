"""partners: their terms, keys, cashiers, till transactions, consents, member codes,
idempotency records and closed statements; accounts get names; journal indexes by
account and time (settlement)

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import vafa.database


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Cashiers: staff logins bound to one partner.
    with op.batch_alter_table('staff_users', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_staff_users_role'), type_='check')
        batch_op.create_check_constraint(
            batch_op.f('ck_staff_users_role'),
            "role IN ('owner', 'manager', 'agent', 'analyst', 'cashier')",
        )
    op.create_table('partner_member_codes',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('customer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', vafa.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', vafa.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('used_at', vafa.database.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_partner_member_codes_customer_id_customers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_partner_member_codes')),
    sa.UniqueConstraint('code_hash', name=op.f('uq_partner_member_codes_code_hash'))
    )
    with op.batch_alter_table('partner_member_codes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_partner_member_codes_customer_id'), ['customer_id'], unique=False)

    op.create_table('partners',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('name', sa.JSON(), nullable=False),
    sa.Column('category', sa.String(length=16), nullable=False),
    sa.Column('logo', sa.String(length=200), nullable=True),
    sa.Column('contact_name', sa.String(length=120), nullable=False),
    sa.Column('phone', sa.String(length=16), nullable=True),
    sa.Column('address', sa.String(length=300), nullable=False),
    sa.Column('home', sa.Boolean(), nullable=False),
    sa.Column('earn', sa.Boolean(), nullable=False),
    sa.Column('redeem', sa.Boolean(), nullable=False),
    sa.Column('earn_rials_per_point', sa.BigInteger(), nullable=False),
    sa.Column('redeem_rials_per_point', sa.BigInteger(), nullable=False),
    sa.Column('commission_bp', sa.Integer(), nullable=False),
    sa.Column('enrol', sa.Boolean(), nullable=False),
    sa.Column('monthly_earn_cap', sa.BigInteger(), nullable=True),
    sa.Column('monthly_redeem_cap', sa.BigInteger(), nullable=True),
    sa.Column('starts_at', vafa.database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('ends_at', vafa.database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_at', vafa.database.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("category IN ('food', 'cafe', 'grocery', 'fashion', 'beauty', 'health', 'electronics', 'home', 'leisure', 'services', 'other')", name=op.f('ck_partners_category')),
    sa.CheckConstraint('commission_bp >= 0 AND commission_bp <= 10000', name=op.f('ck_partners_commission')),
    sa.CheckConstraint('earn_rials_per_point >= 0 AND redeem_rials_per_point >= 0', name=op.f('ck_partners_rates')),
    sa.ForeignKeyConstraint(['account_id'], ['loyalty_accounts.id'], name=op.f('fk_partners_account_id_loyalty_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_partners')),
    sa.UniqueConstraint('account_id', name=op.f('uq_partners_account_id'))
    )
    with op.batch_alter_table('partners', schema=None) as batch_op:
        batch_op.create_index('uq_partners_home', ['home'], unique=True, sqlite_where=sa.text('home'), postgresql_where=sa.text('home'))

    op.create_table('partner_api_keys',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('partner_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('created_by', sa.String(length=32), nullable=False),
    sa.Column('created_at', vafa.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', vafa.database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', vafa.database.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['partner_id'], ['partners.id'], name=op.f('fk_partner_api_keys_partner_id_partners')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_partner_api_keys')),
    sa.UniqueConstraint('key_hash', name=op.f('uq_partner_api_keys_key_hash'))
    )
    with op.batch_alter_table('partner_api_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_partner_api_keys_partner_id'), ['partner_id'], unique=False)

    op.create_table('partner_cashiers',
    sa.Column('staff_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('partner_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.ForeignKeyConstraint(['partner_id'], ['partners.id'], name=op.f('fk_partner_cashiers_partner_id_partners')),
    sa.ForeignKeyConstraint(['staff_id'], ['staff_users.id'], name=op.f('fk_partner_cashiers_staff_id_staff_users')),
    sa.PrimaryKeyConstraint('staff_id', name=op.f('pk_partner_cashiers'))
    )
    with op.batch_alter_table('partner_cashiers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_partner_cashiers_partner_id'), ['partner_id'], unique=False)

    op.create_table('partner_consents',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('partner_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('customer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('points', sa.BigInteger(), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', vafa.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', vafa.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('used_at', vafa.database.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_partner_consents_customer_id_customers')),
    sa.ForeignKeyConstraint(['partner_id'], ['partners.id'], name=op.f('fk_partner_consents_partner_id_partners')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_partner_consents')),
    sa.UniqueConstraint('code_hash', name=op.f('uq_partner_consents_code_hash'))
    )
    with op.batch_alter_table('partner_consents', schema=None) as batch_op:
        batch_op.create_index('ix_partner_consents_member', ['customer_id', 'partner_id'], unique=False)

    op.create_table('partner_idempotency',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('partner_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('status', sa.Integer(), nullable=False),
    sa.Column('response', sa.JSON(), nullable=False),
    sa.Column('created_at', vafa.database.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['partner_id'], ['partners.id'], name=op.f('fk_partner_idempotency_partner_id_partners')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_partner_idempotency')),
    sa.UniqueConstraint('partner_id', 'key', name='uq_partner_idempotency_key')
    )
    op.create_table('partner_statements',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('partner_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('first_day', sa.Date(), nullable=False),
    sa.Column('last_day', sa.Date(), nullable=False),
    sa.Column('figures', sa.JSON(), nullable=False),
    sa.Column('closed_by', sa.String(length=32), nullable=False),
    sa.Column('closed_at', vafa.database.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['partner_id'], ['partners.id'], name=op.f('fk_partner_statements_partner_id_partners')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_partner_statements')),
    sa.UniqueConstraint('partner_id', 'first_day', name='uq_partner_statements_period')
    )
    op.create_table('partner_transactions',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('partner_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('customer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('purchase_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('entry_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('reverses_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('points', sa.BigInteger(), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('receipt', sa.String(length=64), nullable=False),
    sa.Column('reversed', sa.BigInteger(), nullable=False),
    sa.Column('recorded_by', sa.String(length=32), nullable=False),
    sa.Column('created_at', vafa.database.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('earn', 'redeem', 'reverse')", name=op.f('ck_partner_transactions_kind')),
    sa.CheckConstraint('points >= 0 AND amount >= 0 AND reversed >= 0', name=op.f('ck_partner_transactions_numbers')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_partner_transactions_customer_id_customers')),
    sa.ForeignKeyConstraint(['entry_id'], ['loyalty_journal.id'], name=op.f('fk_partner_transactions_entry_id_loyalty_journal')),
    sa.ForeignKeyConstraint(['partner_id'], ['partners.id'], name=op.f('fk_partner_transactions_partner_id_partners')),
    sa.ForeignKeyConstraint(['purchase_id'], ['loyalty_purchases.id'], name=op.f('fk_partner_transactions_purchase_id_loyalty_purchases')),
    sa.ForeignKeyConstraint(['reverses_id'], ['partner_transactions.id'], name=op.f('fk_partner_transactions_reverses_id_partner_transactions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_partner_transactions'))
    )
    with op.batch_alter_table('partner_transactions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_partner_transactions_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index('ix_partner_transactions_partner', ['partner_id', 'created_at'], unique=False)

    with op.batch_alter_table('loyalty_accounts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('name', sa.JSON(), nullable=True))

    with op.batch_alter_table('loyalty_journal', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_loyalty_journal_credit'))
        batch_op.create_index('ix_loyalty_journal_credit', ['credit_account_id', 'created_at'], unique=False)
        batch_op.drop_index(batch_op.f('ix_loyalty_journal_debit'))
        batch_op.create_index('ix_loyalty_journal_debit', ['debit_account_id', 'created_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('loyalty_journal', schema=None) as batch_op:
        batch_op.drop_index('ix_loyalty_journal_debit')
        batch_op.create_index(batch_op.f('ix_loyalty_journal_debit'), ['debit_account_id'], unique=False)
        batch_op.drop_index('ix_loyalty_journal_credit')
        batch_op.create_index(batch_op.f('ix_loyalty_journal_credit'), ['credit_account_id'], unique=False)

    with op.batch_alter_table('loyalty_accounts', schema=None) as batch_op:
        batch_op.drop_column('name')

    with op.batch_alter_table('partner_transactions', schema=None) as batch_op:
        batch_op.drop_index('ix_partner_transactions_partner')
        batch_op.drop_index(batch_op.f('ix_partner_transactions_customer_id'))

    op.drop_table('partner_transactions')
    op.drop_table('partner_statements')
    op.drop_table('partner_idempotency')
    with op.batch_alter_table('partner_consents', schema=None) as batch_op:
        batch_op.drop_index('ix_partner_consents_member')

    op.drop_table('partner_consents')
    with op.batch_alter_table('partner_cashiers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_partner_cashiers_partner_id'))

    op.drop_table('partner_cashiers')
    with op.batch_alter_table('partner_api_keys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_partner_api_keys_partner_id'))

    op.drop_table('partner_api_keys')
    with op.batch_alter_table('partners', schema=None) as batch_op:
        batch_op.drop_index('uq_partners_home', sqlite_where=sa.text('home'), postgresql_where=sa.text('home'))

    op.drop_table('partners')
    with op.batch_alter_table('partner_member_codes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_partner_member_codes_customer_id'))

    op.drop_table('partner_member_codes')
    op.execute(sa.text("DELETE FROM staff_users WHERE role = 'cashier'"))
    with op.batch_alter_table('staff_users', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_staff_users_role'), type_='check')
        batch_op.create_check_constraint(
            batch_op.f('ck_staff_users_role'), "role IN ('owner', 'manager', 'agent', 'analyst')"
        )
