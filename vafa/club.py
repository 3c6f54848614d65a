"""The club as its members see it: its name and the unit its money is shown in.

Pages render synchronously, so each process keeps the profile in a `ClubCache`: loaded
when the app starts, set at once by the process that saves it, and re-read every few
seconds so other processes follow. A form carries the unit it was shown in, so an
amount typed under the old unit is never read in the new one.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from vafa.cache import Cache
from vafa.i18n import N_, translate
from vafa.models import Club
from vafa.money import Currency, default_currency, format_money
from vafa.settings import Settings

log = logging.getLogger("vafa")

REFRESH_SECONDS = 5.0
PRODUCT_NAME = N_("Vafa")


@dataclass(frozen=True)
class ClubProfile:
    name: str  # as typed; empty until the owner names the club
    currency: Currency

    def display_name(self, language: str) -> str:
        return self.name or translate(language, PRODUCT_NAME)

    def money(self, stored: int, language: str) -> str:
        return format_money(stored, language, self.currency)


def profile_of(club: Club | None, timezone: str) -> ClubProfile:
    """The stored club's profile; before the owner saves one, the club's time zone
    says which country's money it counts."""
    if club is None:
        return ClubProfile(name="", currency=default_currency(timezone))
    return ClubProfile(name=club.name, currency=Currency(club.currency))


async def _stored(session: AsyncSession) -> Club | None:
    return await session.get(Club, 1)


STORED = Cache("club", _stored, (Club,))


async def load(session: AsyncSession, timezone: str) -> ClubProfile:
    """The profile as stored now (kept in the process while it does not change)."""
    return profile_of(await STORED.get(session), timezone)


class ClubCache:
    """The profile this process renders with."""

    def __init__(self, settings: Settings) -> None:
        self.timezone = settings.timezone
        self.profile = profile_of(None, settings.timezone)

    async def refresh(self, sessionmaker: Callable[[], AsyncSession]) -> ClubProfile:
        async with sessionmaker() as session:
            self.profile = await load(session, self.timezone)
        return self.profile

    async def follow(
        self, sessionmaker: Callable[[], AsyncSession], stop: asyncio.Event
    ) -> None:
        """Re-read until `stop`; a failed read keeps the last profile."""
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), timeout=REFRESH_SECONDS)
            except TimeoutError:
                try:
                    await self.refresh(sessionmaker)
                except Exception:  # the database may be restarting; try again later
                    log.warning("could not re-read the club profile", exc_info=True)
