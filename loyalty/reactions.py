"""What the points engine does when something happens to a customer record: the
signup and profile bonuses. Run in the transaction that published the event."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from customers.events import MemberJoined, ProfileCompleted
from loyalty import keys, rules
from loyalty.models import RuleKind
from vafa.events import Subscription
from vafa.settings import Settings


async def signup_bonus(session: AsyncSession, event: MemberJoined, settings: Settings) -> None:
    await rules.award_bonus(
        session,
        kind=RuleKind.SIGNUP,
        customer_id=event.customer_id,
        key=keys.signup(event.customer_id),
        tz=settings.timezone,
    )


async def profile_bonus(
    session: AsyncSession, event: ProfileCompleted, settings: Settings
) -> None:
    await rules.award_bonus(
        session,
        kind=RuleKind.PROFILE,
        customer_id=event.customer_id,
        key=keys.profile(event.customer_id),
        tz=settings.timezone,
    )


SUBSCRIPTIONS = (
    Subscription(MemberJoined, signup_bonus),
    Subscription(ProfileCompleted, profile_bonus),
)
