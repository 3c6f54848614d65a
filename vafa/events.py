"""In-transaction events: a lower package tells higher ones that something happened;
and member facts: what each domain can say about a member, for the others to show.

`publish(session, event)` runs every subscriber declared for the event's type, in the
session's transaction, in the order the composition root lists the domains, so their
writes commit or roll back with the change that caused them. The subscribers travel
with the sessionmaker (`make_sessionmaker(engine, bus=...)`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

if TYPE_CHECKING:
    from vafa.settings import Settings

BUS_KEY = "vafa.events"


class Event:
    """Base of every event; subclasses are frozen dataclasses of plain values."""


Handler = Callable[[AsyncSession, Any, "Settings"], Awaitable[None]]


@dataclass(frozen=True)
class Subscription:
    event: type[Event]
    handler: Handler


# (session, customer_id, language) -> what a domain can say about the member, as text
# in that language ({"balance": "۱۲۰", "tier": "طلایی"}).
MemberFacts = Callable[[AsyncSession, int, str], Awaitable[Mapping[str, str]]]


class EventBus:
    def __init__(
        self,
        settings: Settings,
        subscriptions: Sequence[Subscription] = (),
        facts: Sequence[MemberFacts] = (),
    ) -> None:
        self.settings = settings
        self.subscriptions = tuple(subscriptions)
        self.facts = tuple(facts)

    def handlers(self, event: Event) -> list[Handler]:
        return [s.handler for s in self.subscriptions if isinstance(event, s.event)]


def _bus(session: AsyncSession) -> EventBus:
    bus = session.info.get(BUS_KEY)
    if not isinstance(bus, EventBus):
        # An event nobody hears is lost work (a bonus never given): refuse loudly.
        raise RuntimeError("this session has no event bus; build it through vafa.server")
    return bus


async def publish(session: AsyncSession, event: Event) -> None:
    bus = _bus(session)
    for handler in bus.handlers(event):
        await handler(session, event, bus.settings)


async def member_facts(session: AsyncSession, customer_id: int, language: str) -> dict[str, str]:
    """Everything the domains say about a member (their points, their tier, ...), for a
    domain that shows it without importing the one that knows it."""
    facts: dict[str, str] = {}
    for provider in _bus(session).facts:
        facts.update(await provider(session, customer_id, language))
    return facts
