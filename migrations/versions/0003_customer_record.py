"""customer record: consent history, staff notes, name search key; who did what in
the audit log

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import vafa.database
from vafa.i18n.normalize import fold

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('customer_consent_changes',
    sa.Column('id', BigId, autoincrement=True, nullable=False),
    sa.Column('customer_id', BigId, nullable=False),
    sa.Column('given', sa.Boolean(), nullable=False),
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('at', vafa.database.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_customer_consent_changes_customer_id_customers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_customer_consent_changes'))
    )
    op.create_index('ix_customer_consent_changes_member', 'customer_consent_changes', ['customer_id', 'at'], unique=False)
    op.create_table('customer_notes',
    sa.Column('id', BigId, autoincrement=True, nullable=False),
    sa.Column('customer_id', BigId, nullable=False),
    sa.Column('staff_id', BigId, nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('at', vafa.database.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_customer_notes_customer_id_customers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_customer_notes'))
    )
    op.create_index('ix_customer_notes_member', 'customer_notes', ['customer_id', 'at'], unique=False)
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('name_key', sa.String(length=120), nullable=True))
        batch_op.create_index(batch_op.f('ix_customers_name_key'), ['name_key'], unique=False)
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.add_column(sa.Column('actor_kind', sa.String(length=16), nullable=True))

    connection = op.get_bind()
    # Names become searchable; the consent each member has now is the first entry of
    # their consent history; audit rows with an actor were written by staff.
    for customer_id, name in connection.execute(
        sa.text("SELECT id, name FROM customers WHERE name IS NOT NULL")
    ).all():
        connection.execute(
            sa.text("UPDATE customers SET name_key = :key WHERE id = :id"),
            {"key": fold(name)[:120], "id": customer_id},
        )
    connection.execute(
        sa.text(
            "INSERT INTO customer_consent_changes (customer_id, given, source, at) "
            "SELECT id, marketing_consent, COALESCE(consent_source, 'unknown'), consent_at "
            "FROM customers WHERE consent_at IS NOT NULL"
        )
    )
    connection.execute(
        sa.text(
            "UPDATE audit_log SET actor_kind = CASE WHEN actor_id IS NULL "
            "THEN 'system' ELSE 'staff' END"
        )
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.alter_column('actor_kind', existing_type=sa.String(length=16), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_column('actor_kind')
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_customers_name_key'))
        batch_op.drop_column('name_key')
    op.drop_index('ix_customer_notes_member', table_name='customer_notes')
    op.drop_table('customer_notes')
    op.drop_index('ix_customer_consent_changes_member', table_name='customer_consent_changes')
    op.drop_table('customer_consent_changes')
