"""SMS delivery: urgent messages (login codes) go at any hour, the rest in the club's
daytime window; a lease token names the claim that may record a message's outcome

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('sms_messages', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('urgent', sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(sa.Column('lease_token', sa.String(length=32), nullable=True))
    # Messages already in the outbox keep their place; login codes are the urgent ones.
    op.get_bind().execute(
        sa.text("UPDATE sms_messages SET urgent = :urgent WHERE kind = 'otp'"), {"urgent": True}
    )


def downgrade() -> None:
    with op.batch_alter_table('sms_messages', schema=None) as batch_op:
        batch_op.drop_column('lease_token')
        batch_op.drop_column('urgent')
