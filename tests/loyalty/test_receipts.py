"""Receipt numbers keep the case they were typed in, and still match however typed."""

from __future__ import annotations

from loyalty import purchases
from vafa.actor import Actor


async def record(db, receipt: str):
    return await purchases.record_purchase(
        db,
        actor=Actor.staff(1),
        phone="+989121234567",
        amount=500_000,
        categories=[],
        receipt_number=receipt,
        tz="Asia/Tehran",
    )


async def test_receipt_keeps_its_case_and_matches_in_any_case_or_digits(db):
    first = await record(db, "  INV-7a۲ ")
    assert first.purchase.receipt_number == "INV-7a2" and not first.duplicate
    again = await record(db, "inv-7A2")
    assert again.duplicate and again.purchase.id == first.purchase.id
