"""the club chooses how money is shown (Rial, Toman, Dram); an SMS after each purchase

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('club', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('currency', sa.String(length=8), nullable=False, server_default='rial')
        )
        batch_op.create_check_constraint(
            batch_op.f('ck_club_currency'), "currency IN ('rial', 'toman', 'dram')"
        )
    # A club in Armenia has always counted in Drams.
    op.execute(sa.text("UPDATE club SET currency = 'dram' WHERE timezone = 'Asia/Yerevan'"))
    with op.batch_alter_table('loyalty_programme', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('purchase_sms', sa.Boolean(), nullable=False, server_default=sa.true())
        )


def downgrade() -> None:
    with op.batch_alter_table('loyalty_programme', schema=None) as batch_op:
        batch_op.drop_column('purchase_sms')
    with op.batch_alter_table('club', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_club_currency'), type_='check')
        batch_op.drop_column('currency')
