"""The SMS the points engine sends members, in the member's saved language and with the
club's name: after a purchase (a welcome for a new member), before points expire."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from customers.models import Customer
from loyalty import ledger
from loyalty.models import WALLET
from loyalty.programme import current
from vafa import club
from vafa.i18n import N_, translate
from vafa.i18n.formatting import format_number
from vafa.sms import outbox

WELCOME = N_(
    "Welcome to %(club)s! This purchase earned you %(points)s points; "
    "you can use %(balance)s now."
)
WELCOME_LINK = N_(
    "Welcome to %(club)s! This purchase earned you %(points)s points; "
    "you can use %(balance)s now. Your points and rewards: %(link)s"
)
EARNED = N_("%(club)s: this purchase earned you %(points)s points. You can use %(balance)s now.")
EXPIRY_REMINDER = N_("%(points)s of your %(club)s points expire on %(date)s. Use them before then.")


async def after_purchase(
    session: AsyncSession, *, customer: Customer, points: int, joined: bool, tz: str, link: str
) -> None:
    """A new member is always welcomed (one message, with what the purchase earned);
    others hear what they earned when the club sends purchase messages and the
    purchase earned something. Sent at once, at any hour: the member is at the till."""
    if not joined and (points <= 0 or not (await current(session)).programme.purchase_sms):
        return
    language = customer.language
    profile = await club.load(session, tz)
    balance = (await ledger.balances(session, customer.id))[WALLET]
    if joined:
        message = WELCOME_LINK if link else WELCOME
    else:
        message = EARNED
    await outbox.queue_text(
        session,
        to=customer.phone,
        body=translate(
            language,
            message,
            club=profile.display_name(language),
            points=format_number(points, language),
            balance=format_number(balance, language),
            link=link,
        ),
        urgent=True,
    )
