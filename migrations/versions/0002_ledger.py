"""ledger

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import vafa.database


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
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
    with op.batch_alter_table('loyalty_accounts', schema=None) as batch_op:
        batch_op.create_index('uq_loyalty_accounts_programme', ['kind'], unique=True, sqlite_where=sa.text("kind = 'programme'"), postgresql_where=sa.text("kind = 'programme'"))
    op.execute("INSERT INTO loyalty_accounts (kind, balance) VALUES ('programme', 0)")
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

    op.create_table('loyalty_lots',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('customer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('entry_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('points', sa.BigInteger(), nullable=False),
    sa.Column('remaining', sa.BigInteger(), nullable=False),
    sa.Column('available', sa.Boolean(), nullable=False),
    sa.Column('available_at', vafa.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', vafa.database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', vafa.database.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('remaining >= 0 AND remaining <= points', name=op.f('ck_loyalty_lots_remaining')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_loyalty_lots_customer_id_customers')),
    sa.ForeignKeyConstraint(['entry_id'], ['loyalty_journal.id'], name=op.f('fk_loyalty_lots_entry_id_loyalty_journal')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_loyalty_lots')),
    sa.UniqueConstraint('entry_id', name=op.f('uq_loyalty_lots_entry_id'))
    )
    with op.batch_alter_table('loyalty_lots', schema=None) as batch_op:
        batch_op.create_index('ix_loyalty_lots_due', ['available', 'available_at'], unique=False)
        batch_op.create_index('ix_loyalty_lots_expiry', ['expires_at'], unique=False)
        batch_op.create_index('ix_loyalty_lots_spend', ['customer_id', 'available', 'expires_at'], unique=False)

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



def downgrade() -> None:
    with op.batch_alter_table('loyalty_allocations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_loyalty_allocations_lot_id'))
        batch_op.drop_index(batch_op.f('ix_loyalty_allocations_entry_id'))

    op.drop_table('loyalty_allocations')
    with op.batch_alter_table('loyalty_lots', schema=None) as batch_op:
        batch_op.drop_index('ix_loyalty_lots_spend')
        batch_op.drop_index('ix_loyalty_lots_expiry')
        batch_op.drop_index('ix_loyalty_lots_due')

    op.drop_table('loyalty_lots')
    with op.batch_alter_table('loyalty_journal', schema=None) as batch_op:
        batch_op.drop_index('ix_loyalty_journal_member')
        batch_op.drop_index('ix_loyalty_journal_debit')
        batch_op.drop_index('ix_loyalty_journal_credit')

    op.drop_table('loyalty_journal')
    op.drop_table('loyalty_accounts')
