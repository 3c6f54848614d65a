"""points engine

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from alembic import op

import vafa.database


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('referral_code', sa.String(length=12), nullable=True))
        batch_op.add_column(sa.Column('referred_by_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_customers_referral_code'), ['referral_code'])
        batch_op.create_foreign_key(batch_op.f('fk_customers_referred_by_id_customers'), 'customers', ['referred_by_id'], ['id'])
    # Members who joined before invitations get their own code.
    connection = op.get_bind()
    alphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
    for (customer_id,) in connection.execute(sa.text("SELECT id FROM customers")).all():
        code = "".join(secrets.choice(alphabet) for _ in range(8))
        connection.execute(
            sa.text("UPDATE customers SET referral_code = :code WHERE id = :id"),
            {"code": code, "id": customer_id},
        )
    op.create_table('loyalty_programme',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('expiry_days', sa.Integer(), nullable=True),
    sa.Column('expire_at', sa.String(length=8), nullable=False),
    sa.Column('return_policy', sa.String(length=8), nullable=False),
    sa.Column('reminder_days', sa.Integer(), nullable=False),
    sa.Column('tier_window', sa.String(length=8), nullable=False),
    sa.Column('tier_window_days', sa.Integer(), nullable=False),
    sa.Column('tier_grace_days', sa.Integer(), nullable=False),
    sa.CheckConstraint("expire_at IN ('day', 'month')", name=op.f('ck_loyalty_programme_expire_at')),
    sa.CheckConstraint("return_policy IN ('debt', 'forgive')", name=op.f('ck_loyalty_programme_return_policy')),
    sa.CheckConstraint("tier_window IN ('rolling', 'calendar')", name=op.f('ck_loyalty_programme_tier_window')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_loyalty_programme'))
    )
    op.create_table('loyalty_rewards',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('title', sa.JSON(), nullable=False),
    sa.Column('description', sa.JSON(), nullable=False),
    sa.Column('image', sa.String(length=200), nullable=True),
    sa.Column('cost', sa.BigInteger(), nullable=False),
    sa.Column('stock', sa.Integer(), nullable=True),
    sa.Column('per_member_limit', sa.Integer(), nullable=True),
    sa.Column('valid_from', vafa.database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('valid_until', vafa.database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('voucher_days', sa.Integer(), nullable=False),
    sa.Column('min_tier_rank', sa.Integer(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', vafa.database.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('cost > 0', name=op.f('ck_loyalty_rewards_cost')),
    sa.CheckConstraint('stock IS NULL OR stock >= 0', name=op.f('ck_loyalty_rewards_stock')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_loyalty_rewards'))
    )
    op.create_table('loyalty_rules',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('rials_per_point', sa.BigInteger(), nullable=True),
    sa.Column('multiplier_percent', sa.Integer(), nullable=False),
    sa.Column('category_multipliers', sa.JSON(), nullable=False),
    sa.Column('tier_multipliers', sa.JSON(), nullable=False),
    sa.Column('points', sa.Integer(), nullable=True),
    sa.Column('starts_at', vafa.database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('ends_at', vafa.database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('pending_days', sa.Integer(), nullable=False),
    sa.Column('daily_cap', sa.Integer(), nullable=True),
    sa.Column('budget', sa.BigInteger(), nullable=True),
    sa.Column('budget_used', sa.BigInteger(), nullable=False),
    sa.Column('created_at', vafa.database.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('spend', 'signup', 'birthday', 'profile', 'referral', 'survey', 'manual')", name=op.f('ck_loyalty_rules_kind')),
    sa.CheckConstraint('budget IS NULL OR budget_used <= budget', name=op.f('ck_loyalty_rules_budget')),
    sa.CheckConstraint('multiplier_percent >= 0 AND pending_days >= 0', name=op.f('ck_loyalty_rules_numbers')),
    sa.CheckConstraint('rials_per_point IS NULL OR rials_per_point > 0', name=op.f('ck_loyalty_rules_rate')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_loyalty_rules'))
    )
    op.create_table('loyalty_tiers',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('name', sa.JSON(), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=False),
    sa.Column('threshold', sa.BigInteger(), nullable=False),
    sa.Column('earn_multiplier_percent', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_loyalty_tiers')),
    sa.UniqueConstraint('rank', name=op.f('uq_loyalty_tiers_rank'))
    )
    op.create_table('loyalty_accounts',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('customer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('balance', sa.BigInteger(), nullable=False),
    sa.CheckConstraint("(customer_id IS NULL) = (kind NOT IN ('wallet', 'pending', 'debt'))", name=op.f('ck_loyalty_accounts_owner')),
    sa.CheckConstraint("kind != 'debt' OR balance <= 0", name=op.f('ck_loyalty_accounts_debt')),
    sa.CheckConstraint("kind NOT IN ('wallet', 'pending') OR balance >= 0", name=op.f('ck_loyalty_accounts_balance')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_loyalty_accounts_customer_id_customers'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_loyalty_accounts')),
    sa.UniqueConstraint('customer_id', 'kind', name='uq_loyalty_accounts_member_kind')
    )
    op.execute("INSERT INTO loyalty_accounts (kind, balance) VALUES ('programme', 0)")
    with op.batch_alter_table('loyalty_accounts', schema=None) as batch_op:
        batch_op.create_index('uq_loyalty_accounts_programme', ['kind'], unique=True, sqlite_where=sa.text("kind = 'programme'"), postgresql_where=sa.text("kind = 'programme'"))

    op.create_table('loyalty_member_tiers',
    sa.Column('customer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('tier_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('since', vafa.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('below_since', vafa.database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('points', sa.BigInteger(), nullable=False),
    sa.Column('reviewed_at', vafa.database.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_loyalty_member_tiers_customer_id_customers')),
    sa.ForeignKeyConstraint(['tier_id'], ['loyalty_tiers.id'], name=op.f('fk_loyalty_member_tiers_tier_id_loyalty_tiers')),
    sa.PrimaryKeyConstraint('customer_id', name=op.f('pk_loyalty_member_tiers'))
    )
    op.create_table('loyalty_purchases',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('customer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('receipt_number', sa.String(length=64), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('categories', sa.JSON(), nullable=False),
    sa.Column('points', sa.BigInteger(), nullable=False),
    sa.Column('refunded_amount', sa.BigInteger(), nullable=False),
    sa.Column('points_taken_back', sa.BigInteger(), nullable=False),
    sa.Column('recorded_by', sa.String(length=32), nullable=False),
    sa.Column('created_at', vafa.database.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('amount > 0', name=op.f('ck_loyalty_purchases_amount')),
    sa.CheckConstraint('refunded_amount >= 0 AND refunded_amount <= amount', name=op.f('ck_loyalty_purchases_refund')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_loyalty_purchases_customer_id_customers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_loyalty_purchases')),
    sa.UniqueConstraint('receipt_number', name=op.f('uq_loyalty_purchases_receipt_number'))
    )
    with op.batch_alter_table('loyalty_purchases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_loyalty_purchases_customer_id'), ['customer_id'], unique=False)

    op.create_table('loyalty_tier_changes',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('customer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('from_tier_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('to_tier_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('qualifying_points', sa.BigInteger(), nullable=False),
    sa.Column('reason', sa.String(length=32), nullable=False),
    sa.Column('at', vafa.database.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_loyalty_tier_changes_customer_id_customers')),
    sa.ForeignKeyConstraint(['from_tier_id'], ['loyalty_tiers.id'], name=op.f('fk_loyalty_tier_changes_from_tier_id_loyalty_tiers')),
    sa.ForeignKeyConstraint(['to_tier_id'], ['loyalty_tiers.id'], name=op.f('fk_loyalty_tier_changes_to_tier_id_loyalty_tiers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_loyalty_tier_changes'))
    )
    with op.batch_alter_table('loyalty_tier_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_loyalty_tier_changes_customer_id'), ['customer_id'], unique=False)

    op.create_table('loyalty_journal',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('debit_account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('credit_account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('customer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('idempotency_key', sa.String(length=120), nullable=False),
    sa.Column('cause_type', sa.String(length=32), nullable=True),
    sa.Column('cause_id', sa.String(length=64), nullable=True),
    sa.Column('memo', sa.String(length=200), nullable=True),
    sa.Column('created_by', sa.String(length=32), nullable=False),
    sa.Column('created_at', vafa.database.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('earn', 'redeem', 'expire', 'reverse', 'adjust', 'transfer')", name=op.f('ck_loyalty_journal_kind')),
    sa.CheckConstraint('amount > 0', name=op.f('ck_loyalty_journal_amount')),
    sa.CheckConstraint('debit_account_id != credit_account_id', name=op.f('ck_loyalty_journal_accounts')),
    sa.ForeignKeyConstraint(['credit_account_id'], ['loyalty_accounts.id'], name=op.f('fk_loyalty_journal_credit_account_id_loyalty_accounts')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_loyalty_journal_customer_id_customers')),
    sa.ForeignKeyConstraint(['debit_account_id'], ['loyalty_accounts.id'], name=op.f('fk_loyalty_journal_debit_account_id_loyalty_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_loyalty_journal')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_loyalty_journal_idempotency_key'))
    )
    with op.batch_alter_table('loyalty_journal', schema=None) as batch_op:
        batch_op.create_index('ix_loyalty_journal_credit', ['credit_account_id'], unique=False)
        batch_op.create_index('ix_loyalty_journal_debit', ['debit_account_id'], unique=False)
        batch_op.create_index('ix_loyalty_journal_member', ['customer_id', 'id'], unique=False)

    op.create_table('loyalty_refunds',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('purchase_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('key', sa.String(length=120), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('points', sa.BigInteger(), nullable=False),
    sa.Column('taken', sa.BigInteger(), nullable=False),
    sa.Column('debt', sa.BigInteger(), nullable=False),
    sa.Column('forgiven', sa.BigInteger(), nullable=False),
    sa.Column('policy', sa.String(length=8), nullable=False),
    sa.Column('recorded_by', sa.String(length=32), nullable=False),
    sa.Column('created_at', vafa.database.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['purchase_id'], ['loyalty_purchases.id'], name=op.f('fk_loyalty_refunds_purchase_id_loyalty_purchases')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_loyalty_refunds')),
    sa.UniqueConstraint('key', name=op.f('uq_loyalty_refunds_key'))
    )
    with op.batch_alter_table('loyalty_refunds', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_loyalty_refunds_purchase_id'), ['purchase_id'], unique=False)

    op.create_table('loyalty_lots',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('customer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('entry_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('points', sa.BigInteger(), nullable=False),
    sa.Column('remaining', sa.BigInteger(), nullable=False),
    sa.Column('available', sa.Boolean(), nullable=False),
    sa.Column('available_at', vafa.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', vafa.database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('reminded_at', vafa.database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', vafa.database.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('remaining >= 0 AND remaining <= points', name=op.f('ck_loyalty_lots_remaining')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_loyalty_lots_customer_id_customers')),
    sa.ForeignKeyConstraint(['entry_id'], ['loyalty_journal.id'], name=op.f('fk_loyalty_lots_entry_id_loyalty_journal')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_loyalty_lots')),
    sa.UniqueConstraint('entry_id', name=op.f('uq_loyalty_lots_entry_id'))
    )
    with op.batch_alter_table('loyalty_lots', schema=None) as batch_op:
        batch_op.create_index('ix_loyalty_lots_due', ['available', 'available_at'], unique=False)
        batch_op.create_index('ix_loyalty_lots_expiring', ['expires_at'], unique=False, sqlite_where=sa.text('remaining > 0'), postgresql_where=sa.text('remaining > 0'))
        batch_op.create_index('ix_loyalty_lots_open', ['customer_id', 'available', 'expires_at'], unique=False, sqlite_where=sa.text('remaining > 0'), postgresql_where=sa.text('remaining > 0'))

    op.create_table('loyalty_rule_awards',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('rule_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('customer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('entry_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('points', sa.BigInteger(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_loyalty_rule_awards_customer_id_customers')),
    sa.ForeignKeyConstraint(['entry_id'], ['loyalty_journal.id'], name=op.f('fk_loyalty_rule_awards_entry_id_loyalty_journal')),
    sa.ForeignKeyConstraint(['rule_id'], ['loyalty_rules.id'], name=op.f('fk_loyalty_rule_awards_rule_id_loyalty_rules')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_loyalty_rule_awards')),
    sa.UniqueConstraint('entry_id', name=op.f('uq_loyalty_rule_awards_entry_id'))
    )
    with op.batch_alter_table('loyalty_rule_awards', schema=None) as batch_op:
        batch_op.create_index('ix_loyalty_rule_awards_cap', ['rule_id', 'customer_id', 'day'], unique=False)

    op.create_table('loyalty_vouchers',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.Column('reward_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('customer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('entry_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('points', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('created_at', vafa.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', vafa.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('closed_at', vafa.database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('used_by', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.CheckConstraint("status IN ('issued', 'used', 'cancelled', 'expired')", name=op.f('ck_loyalty_vouchers_status')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_loyalty_vouchers_customer_id_customers')),
    sa.ForeignKeyConstraint(['entry_id'], ['loyalty_journal.id'], name=op.f('fk_loyalty_vouchers_entry_id_loyalty_journal')),
    sa.ForeignKeyConstraint(['reward_id'], ['loyalty_rewards.id'], name=op.f('fk_loyalty_vouchers_reward_id_loyalty_rewards')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_loyalty_vouchers')),
    sa.UniqueConstraint('code', name=op.f('uq_loyalty_vouchers_code')),
    sa.UniqueConstraint('entry_id', name=op.f('uq_loyalty_vouchers_entry_id'))
    )
    with op.batch_alter_table('loyalty_vouchers', schema=None) as batch_op:
        batch_op.create_index('ix_loyalty_vouchers_due', ['status', 'expires_at'], unique=False)
        batch_op.create_index('ix_loyalty_vouchers_member', ['customer_id', 'reward_id', 'status'], unique=False)

    op.create_table('loyalty_allocations',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('entry_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('lot_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.CheckConstraint('amount != 0', name=op.f('ck_loyalty_allocations_amount')),
    sa.ForeignKeyConstraint(['entry_id'], ['loyalty_journal.id'], name=op.f('fk_loyalty_allocations_entry_id_loyalty_journal')),
    sa.ForeignKeyConstraint(['lot_id'], ['loyalty_lots.id'], name=op.f('fk_loyalty_allocations_lot_id_loyalty_lots')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_loyalty_allocations'))
    )
    with op.batch_alter_table('loyalty_allocations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_loyalty_allocations_entry_id'), ['entry_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_loyalty_allocations_lot_id'), ['lot_id'], unique=False)



    op.execute(
        "INSERT INTO loyalty_programme (id, expiry_days, expire_at, return_policy, reminder_days, "
        "tier_window, tier_window_days, tier_grace_days) VALUES (1, 365, 'day', 'debt', 30, 'rolling', 365, 30)"
    )


def downgrade() -> None:
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_customers_referred_by_id_customers'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_customers_referral_code'), type_='unique')
        batch_op.drop_column('referred_by_id')
        batch_op.drop_column('referral_code')
    with op.batch_alter_table('loyalty_allocations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_loyalty_allocations_lot_id'))
        batch_op.drop_index(batch_op.f('ix_loyalty_allocations_entry_id'))

    op.drop_table('loyalty_allocations')
    with op.batch_alter_table('loyalty_vouchers', schema=None) as batch_op:
        batch_op.drop_index('ix_loyalty_vouchers_member')
        batch_op.drop_index('ix_loyalty_vouchers_due')

    op.drop_table('loyalty_vouchers')
    with op.batch_alter_table('loyalty_rule_awards', schema=None) as batch_op:
        batch_op.drop_index('ix_loyalty_rule_awards_cap')

    op.drop_table('loyalty_rule_awards')
    with op.batch_alter_table('loyalty_lots', schema=None) as batch_op:
        batch_op.drop_index('ix_loyalty_lots_open', sqlite_where=sa.text('remaining > 0'), postgresql_where=sa.text('remaining > 0'))
        batch_op.drop_index('ix_loyalty_lots_expiring', sqlite_where=sa.text('remaining > 0'), postgresql_where=sa.text('remaining > 0'))
        batch_op.drop_index('ix_loyalty_lots_due')

    op.drop_table('loyalty_lots')
    with op.batch_alter_table('loyalty_refunds', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_loyalty_refunds_purchase_id'))

    op.drop_table('loyalty_refunds')
    with op.batch_alter_table('loyalty_journal', schema=None) as batch_op:
        batch_op.drop_index('ix_loyalty_journal_member')
        batch_op.drop_index('ix_loyalty_journal_debit')
        batch_op.drop_index('ix_loyalty_journal_credit')

    op.drop_table('loyalty_journal')
    with op.batch_alter_table('loyalty_tier_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_loyalty_tier_changes_customer_id'))

    op.drop_table('loyalty_tier_changes')
    with op.batch_alter_table('loyalty_purchases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_loyalty_purchases_customer_id'))

    op.drop_table('loyalty_purchases')
    op.drop_table('loyalty_member_tiers')
    with op.batch_alter_table('loyalty_accounts', schema=None) as batch_op:
        batch_op.drop_index('uq_loyalty_accounts_programme', sqlite_where=sa.text("kind = 'programme'"), postgresql_where=sa.text("kind = 'programme'"))

    op.drop_table('loyalty_accounts')
    op.drop_table('loyalty_tiers')
    op.drop_table('loyalty_rules')
    op.drop_table('loyalty_rewards')
    op.drop_table('loyalty_programme')
