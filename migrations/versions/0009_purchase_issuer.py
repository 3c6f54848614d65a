"""a purchase names the account its points came from; receipts are unique per issuer

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('loyalty_purchases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('issuer_account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True))
    # Every purchase so far was made at the club's own counter: the programme issued it.
    op.execute(
        sa.text(
            "UPDATE loyalty_purchases SET issuer_account_id = "
            "(SELECT id FROM loyalty_accounts WHERE kind = 'programme')"
        )
    )
    with op.batch_alter_table('loyalty_purchases', schema=None) as batch_op:
        batch_op.alter_column(
            'issuer_account_id',
            existing_type=sa.BigInteger().with_variant(sa.Integer(), 'sqlite'),
            nullable=False,
        )
        batch_op.create_foreign_key(
            batch_op.f('fk_loyalty_purchases_issuer_account_id_loyalty_accounts'),
            'loyalty_accounts',
            ['issuer_account_id'],
            ['id'],
        )
        batch_op.drop_constraint('uq_loyalty_purchases_receipt_key', type_='unique')
        batch_op.create_unique_constraint(
            'uq_loyalty_purchases_receipt', ['issuer_account_id', 'receipt_key']
        )


def downgrade() -> None:
    with op.batch_alter_table('loyalty_purchases', schema=None) as batch_op:
        batch_op.drop_constraint('uq_loyalty_purchases_receipt', type_='unique')
        batch_op.create_unique_constraint('uq_loyalty_purchases_receipt_key', ['receipt_key'])
        batch_op.drop_constraint(
            batch_op.f('fk_loyalty_purchases_issuer_account_id_loyalty_accounts'),
            type_='foreignkey',
        )
        batch_op.drop_column('issuer_account_id')
