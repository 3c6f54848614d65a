"""earning rules have versions: an edit closes one and starts the next

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import vafa.database

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    # Every existing rule is the first and current version of itself.
    with op.batch_alter_table('loyalty_rules', schema=None) as batch_op:
        batch_op.add_column(sa.Column('previous_id', BigId, nullable=True))
        batch_op.add_column(sa.Column('lineage_id', BigId, nullable=True))
        batch_op.add_column(sa.Column('superseded_at', vafa.database.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_loyalty_rules_previous_id_loyalty_rules'), 'loyalty_rules', ['previous_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('loyalty_rules', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_loyalty_rules_previous_id_loyalty_rules'), type_='foreignkey')
        batch_op.drop_column('superseded_at')
        batch_op.drop_column('lineage_id')
        batch_op.drop_column('previous_id')
