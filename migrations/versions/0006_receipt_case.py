"""receipt numbers keep the case they were typed in; a folded key matches them

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('loyalty_purchases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('receipt_key', sa.String(length=64), nullable=True))
    # Receipts stored so far were already folded: they are their own keys.
    op.execute(sa.text("UPDATE loyalty_purchases SET receipt_key = receipt_number"))
    with op.batch_alter_table('loyalty_purchases', schema=None) as batch_op:
        batch_op.alter_column('receipt_key', existing_type=sa.String(length=64), nullable=False)
        batch_op.drop_constraint('uq_loyalty_purchases_receipt_number', type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_loyalty_purchases_receipt_key'), ['receipt_key'])


def downgrade() -> None:
    with op.batch_alter_table('loyalty_purchases', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_loyalty_purchases_receipt_key'), type_='unique')
        batch_op.create_unique_constraint('uq_loyalty_purchases_receipt_number', ['receipt_number'])
        batch_op.drop_column('receipt_key')
