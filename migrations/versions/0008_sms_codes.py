"""SMS codes: lines, codes and keywords, incoming messages, contacts, opt-outs,
coupons; outgoing messages name the line they leave from and are found by the
gateway's message id (delivery reports)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import vafa.database


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('sms_lines',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('number', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('daily_budget', sa.Integer(), nullable=False),
    sa.Column('unknown_reply', sa.JSON(), nullable=False),
    sa.Column('repeat_reply', sa.JSON(), nullable=False),
    sa.Column('invite_reply', sa.JSON(), nullable=False),
    sa.Column('replies_on', sa.Date(), nullable=True),
    sa.Column('replies_today', sa.Integer(), nullable=False),
    sa.Column('budget_alerted_on', sa.Date(), nullable=True),
    sa.Column('created_at', vafa.database.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sms_lines')),
    sa.UniqueConstraint('number', name=op.f('uq_sms_lines_number'))
    )
    op.create_table('sms_codes',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('line_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('replies', sa.JSON(), nullable=False),
    sa.Column('marketing', sa.Boolean(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('starts_at', vafa.database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('ends_at', vafa.database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('coupon_pool', sa.Integer(), nullable=True),
    sa.Column('coupons_issued', sa.Integer(), nullable=False),
    sa.Column('created_at', vafa.database.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("action IN ('card', 'coupon', 'balance', 'join')", name=op.f('ck_sms_codes_action')),
    sa.ForeignKeyConstraint(['line_id'], ['sms_lines.id'], name=op.f('fk_sms_codes_line_id_sms_lines')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sms_codes'))
    )
    with op.batch_alter_table('sms_codes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sms_codes_line_id'), ['line_id'], unique=False)

    op.create_table('sms_contacts',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('phone', sa.String(length=16), nullable=False),
    sa.Column('customer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('first_seen_at', vafa.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', vafa.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('messages', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_sms_contacts_customer_id_customers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sms_contacts')),
    sa.UniqueConstraint('phone', name=op.f('uq_sms_contacts_phone'))
    )
    with op.batch_alter_table('sms_contacts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sms_contacts_customer_id'), ['customer_id'], unique=False)

    op.create_table('sms_code_keywords',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('line_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('code_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('text', sa.String(length=60), nullable=False),
    sa.Column('key', sa.String(length=60), nullable=False),
    sa.ForeignKeyConstraint(['code_id'], ['sms_codes.id'], name=op.f('fk_sms_code_keywords_code_id_sms_codes'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['line_id'], ['sms_lines.id'], name=op.f('fk_sms_code_keywords_line_id_sms_lines')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sms_code_keywords')),
    sa.UniqueConstraint('line_id', 'key', name=op.f('uq_sms_code_keywords_line_id'))
    )
    op.create_table('sms_coupons',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('code_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('phone', sa.String(length=16), nullable=False),
    sa.Column('coupon', sa.String(length=16), nullable=False),
    sa.Column('issued_at', vafa.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('used_at', vafa.database.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['code_id'], ['sms_codes.id'], name=op.f('fk_sms_coupons_code_id_sms_codes')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sms_coupons')),
    sa.UniqueConstraint('code_id', 'phone', name=op.f('uq_sms_coupons_code_id')),
    sa.UniqueConstraint('coupon', name=op.f('uq_sms_coupons_coupon'))
    )
    op.create_table('sms_inbound',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('messageid', sa.String(length=64), nullable=False),
    sa.Column('line_number', sa.String(length=20), nullable=False),
    sa.Column('sender', sa.String(length=32), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('source', sa.String(length=8), nullable=False),
    sa.Column('received_at', vafa.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('processed_at', vafa.database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('line_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('code_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('contact_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('outcome', sa.String(length=16), nullable=True),
    sa.Column('reply_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('new_contact', sa.Boolean(), nullable=False),
    sa.Column('new_member', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['code_id'], ['sms_codes.id'], name=op.f('fk_sms_inbound_code_id_sms_codes'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['contact_id'], ['sms_contacts.id'], name=op.f('fk_sms_inbound_contact_id_sms_contacts')),
    sa.ForeignKeyConstraint(['line_id'], ['sms_lines.id'], name=op.f('fk_sms_inbound_line_id_sms_lines')),
    sa.ForeignKeyConstraint(['reply_id'], ['sms_messages.id'], name=op.f('fk_sms_inbound_reply_id_sms_messages')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sms_inbound')),
    sa.UniqueConstraint('messageid', name=op.f('uq_sms_inbound_messageid'))
    )
    with op.batch_alter_table('sms_inbound', schema=None) as batch_op:
        batch_op.create_index('ix_sms_inbound_code', ['code_id', 'received_at'], unique=False)
        batch_op.create_index('ix_sms_inbound_contact', ['contact_id', 'received_at'], unique=False)
        batch_op.create_index('ix_sms_inbound_line', ['line_id', 'processed_at'], unique=False)
        batch_op.create_index('ix_sms_inbound_waiting', ['processed_at', 'id'], unique=False)

    op.create_table('sms_suppressions',
    sa.Column('line_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('phone', sa.String(length=16), nullable=False),
    sa.Column('since', vafa.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('inbound_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.ForeignKeyConstraint(['inbound_id'], ['sms_inbound.id'], name=op.f('fk_sms_suppressions_inbound_id_sms_inbound')),
    sa.ForeignKeyConstraint(['line_id'], ['sms_lines.id'], name=op.f('fk_sms_suppressions_line_id_sms_lines')),
    sa.PrimaryKeyConstraint('line_id', 'phone', name=op.f('pk_sms_suppressions'))
    )
    with op.batch_alter_table('sms_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sender', sa.String(length=20), nullable=True))
        batch_op.create_index(batch_op.f('ix_sms_messages_provider_message_id'), ['provider_message_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('sms_messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sms_messages_provider_message_id'))
        batch_op.drop_column('sender')

    op.drop_table('sms_suppressions')
    with op.batch_alter_table('sms_inbound', schema=None) as batch_op:
        batch_op.drop_index('ix_sms_inbound_waiting')
        batch_op.drop_index('ix_sms_inbound_line')
        batch_op.drop_index('ix_sms_inbound_contact')
        batch_op.drop_index('ix_sms_inbound_code')

    op.drop_table('sms_inbound')
    op.drop_table('sms_coupons')
    op.drop_table('sms_code_keywords')
    with op.batch_alter_table('sms_contacts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sms_contacts_customer_id'))

    op.drop_table('sms_contacts')
    with op.batch_alter_table('sms_codes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sms_codes_line_id'))

    op.drop_table('sms_codes')
    op.drop_table('sms_lines')
