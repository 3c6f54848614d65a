"""The `Domain` declaration: everything a domain gives the product, in one value.

A domain package (`loyalty/`, `customers/`, ...) builds one `Domain` in its
`domain.py`; the composition root (`vafa.server`) lists the packages once and builds
the app, the worker, the CLI and the demo from a `Composition` of their declarations.
The kernel reads declarations; it never imports a domain.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from vafa.events import EventBus, MemberFacts, Subscription
from vafa.permissions import Permission
from vafa.settings import Settings
from vafa.web.labels import merge_labels


@dataclass(frozen=True)
class NavEntry:
    path: str
    label: str  # msgid, translated when shown
    permission: Permission | None = None  # staff menu: shown only to those who may
    order: int = 50
    match: str | None = None  # the path prefix that marks the entry current, if not `path`


@dataclass(frozen=True)
class Job:
    """Scheduled work the worker runs in its own transaction; returns how much it did.
    Jobs must be safe to run twice and on several workers at once."""

    name: str
    run: Callable[[AsyncSession, Settings], Awaitable[int]]
    daily: bool = False  # a few times a day instead of every pass


@dataclass(frozen=True)
class TimelineItem:
    """One thing that happened to a customer, as their record shows it."""

    at: datetime
    kind: str  # a short code ("purchase", "login", ...): the item's label and icon
    text: str  # msgid with %(name)s placeholders
    values: Mapping[str, object] = field(default_factory=dict)
    points: int | None = None  # + or - on the member's points, when it moved any
    link: str | None = None
    by: str | None = None  # who did it, when not the customer


# (session, customer_id, before, limit) -> the newest items strictly before `before`.
TimelineSource = Callable[[AsyncSession, int, datetime | None, int], Awaitable[list[TimelineItem]]]


@dataclass(frozen=True)
class StaffAlert:
    """Something staff must act on (no SMS credit, a line out of budget), shown at the
    top of every staff page to those who may act on it."""

    text: str  # msgid with %(name)s placeholders
    values: Mapping[str, object] = field(default_factory=dict)
    level: str = "warning"  # or "danger"
    link: str | None = None  # where to act
    link_label: str | None = None  # msgid: the page it opens
    permission: Permission | None = None  # shown only to staff who have it


# (session, settings) -> what needs staff's attention now; asked on every staff page.
AlertSource = Callable[[AsyncSession, Settings], Awaitable[list[StaffAlert]]]


@dataclass
class DemoContext:
    settings: Settings
    rng: random.Random
    now: datetime


@dataclass(frozen=True)
class Domain:
    name: str
    # Domains this one builds on and may import (partners on loyalty's ledger); they
    # are listed before it. Any other two domains never import each other.
    uses: Sequence[str] = ()
    portal: Sequence[type] = ()  # Litestar Controller classes, mounted behind the login
    admin: Sequence[type] = ()  # ... behind the staff login, under /admin
    api: Sequence[type] = ()  # ... under /api, with their own authentication
    hooks: Sequence[type] = ()  # ... webhooks, authenticated by their own secrets
    portal_nav: Sequence[NavEntry] = ()
    admin_nav: Sequence[NavEntry] = ()
    # Groups of code -> msgid ("audit_actions", "objects", "fields", ...): merged
    # across domains and given to every template as `labels.<group>`.
    labels: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    template_helpers: Mapping[str, Callable[..., Any]] = field(default_factory=dict)
    jobs: Sequence[Job] = ()
    commands: Sequence[Any] = ()  # click commands or groups added to `vafa`
    demo: Callable[[AsyncSession, DemoContext], Awaitable[None]] | None = None
    subscriptions: Sequence[Subscription] = ()
    timeline: TimelineSource | None = None
    member_facts: MemberFacts | None = None  # see `vafa.events.member_facts`
    staff_alerts: Sequence[AlertSource] = ()
    # Work a web process keeps running while it serves (entered after the database is
    # set up on `app.state`, left before it is closed): `(app) -> async context manager`.
    lifespan: Sequence[Callable[[Any], AbstractAsyncContextManager[None]]] = ()


class Composition:
    """The declarations of every domain, merged in the order they are listed."""

    def __init__(self, domains: Sequence[Domain]) -> None:
        names = [d.name for d in domains]
        if len(set(names)) != len(names):
            raise ValueError(f"a domain is listed twice: {names}")
        for index, domain in enumerate(domains):
            missing = set(domain.uses) - set(names[:index])
            if missing:
                raise ValueError(f"{domain.name} uses {sorted(missing)}, not listed before it")
        self.domains = tuple(domains)

    def _all(self, attribute: str) -> list[Any]:
        return [item for d in self.domains for item in getattr(d, attribute)]

    @property
    def portal(self) -> list[type]:
        return self._all("portal")

    @property
    def admin(self) -> list[type]:
        return self._all("admin")

    @property
    def api(self) -> list[type]:
        return self._all("api")

    @property
    def hooks(self) -> list[type]:
        return self._all("hooks")

    @property
    def portal_nav(self) -> list[NavEntry]:
        return sorted(self._all("portal_nav"), key=lambda e: e.order)

    @property
    def admin_nav(self) -> list[NavEntry]:
        return sorted(self._all("admin_nav"), key=lambda e: e.order)

    @property
    def jobs(self) -> list[Job]:
        return self._all("jobs")

    @property
    def commands(self) -> list[Any]:
        return self._all("commands")

    @property
    def subscriptions(self) -> list[Subscription]:
        return self._all("subscriptions")

    @property
    def lifespan(self) -> list[Callable[[Any], AbstractAsyncContextManager[None]]]:
        return self._all("lifespan")

    @property
    def member_facts(self) -> list[MemberFacts]:
        return [d.member_facts for d in self.domains if d.member_facts is not None]

    def event_bus(self, settings: Settings) -> EventBus:
        """What the sessions carry: the subscribers and the member facts."""
        return EventBus(settings, self.subscriptions, self.member_facts)

    @property
    def staff_alerts(self) -> list[AlertSource]:
        return self._all("staff_alerts")

    @property
    def timeline(self) -> list[TimelineSource]:
        return [d.timeline for d in self.domains if d.timeline is not None]

    @property
    def labels(self) -> dict[str, dict[str, str]]:
        return merge_labels(*(d.labels for d in self.domains))

    @property
    def template_helpers(self) -> dict[str, Callable[..., Any]]:
        helpers: dict[str, Callable[..., Any]] = {}
        for domain in self.domains:
            helpers.update(domain.template_helpers)
        return helpers
