"""In-transaction events: a lower package tells higher ones that something happened.

`publish(session, event)` runs every subscriber declared for the event's type, in the
session's transaction, in the order the composition root lists the domains, so their
writes commit or roll back with the change that caused them. The subscribers travel
with the sessionmaker (`make_sessionmaker(engine, bus=...)`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
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


class EventBus:
    def __init__(self, settings: Settings, subscriptions: Sequence[Subscription] = ()) -> None:
        self.settings = settings
        self.subscriptions = tuple(subscriptions)

    def handlers(self, event: Event) -> list[Handler]:
        return [s.handler for s in self.subscriptions if isinstance(event, s.event)]


async def publish(session: AsyncSession, event: Event) -> None:
    bus = session.info.get(BUS_KEY)
    if not isinstance(bus, EventBus):
        # An event nobody hears is lost work (a bonus never given): refuse loudly.
        raise RuntimeError("this session has no event bus; build it through vafa.server")
    for handler in bus.handlers(event):
        await handler(session, event, bus.settings)
