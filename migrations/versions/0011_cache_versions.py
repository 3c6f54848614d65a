"""the versions of what each process keeps in memory (vafa.cache): the club's
profile; the points programme, its rules and tiers

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-26
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    table = op.create_table(
        'cache_versions',
        sa.Column('name', sa.String(length=32), nullable=False),
        sa.Column('version', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('name', name=op.f('pk_cache_versions')),
    )
    # With a version row, processes keep the data in memory from the start.
    op.bulk_insert(
        table, [{'name': name, 'version': secrets.randbits(62)} for name in ('club', 'loyalty')]
    )


def downgrade() -> None:
    op.drop_table('cache_versions')
