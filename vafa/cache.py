"""Data every request needs and staff rarely change (the points programme, its rules
and tiers), kept in each process and read again only when it has changed.

A domain names the models a cache is made of (`Cache(name, load, models)`). A flush
that adds, changes or deletes one of them gives the cache's row in `cache_versions` a
new random version, in the same transaction (a random value, not a counter: a database
emptied and filled again never shows an old version). A reader reads the versions (one
read of a small table, once per session for every cache) and uses its copy only if the version is the one
it was loaded under, so a change committed by any process is seen by every process's
next transaction. With no version row, nothing is kept.

The loader runs in a session of its own, closed after it: what it returns is
detached, and must not be changed, since every request of the process shares it.
"""

from __future__ import annotations

import secrets
import weakref
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from vafa.database import Base, upsert
from vafa.models import CacheVersion

T = TypeVar("T")

_WATCHED: dict[type[Base], set[str]] = {}
_MEMO = "vafa.cache"  # session.info: what this session read already, by cache name
_VERSIONS = " versions"  # in the memo: the versions as this session read them
_CHANGED = "vafa.cache.changed"  # session.info: this session gave a cache a new version


class Cache(Generic[T]):
    def __init__(
        self,
        name: str,
        load: Callable[[AsyncSession], Awaitable[T]],
        models: tuple[type[Base], ...],
    ) -> None:
        self.name = name
        self.load = load
        for model in models:
            _WATCHED.setdefault(model, set()).add(name)
        # One copy per database (engine), so tests and tools with several stay apart.
        self._held: weakref.WeakKeyDictionary[Any, tuple[int, T]] = weakref.WeakKeyDictionary()

    async def get(self, session: AsyncSession) -> T:
        memo = session.info.setdefault(_MEMO, {})
        if self.name in memo:
            return memo[self.name]
        if _VERSIONS not in memo:  # every cache's version in one read per session
            memo[_VERSIONS] = dict(
                (await session.execute(select(CacheVersion.name, CacheVersion.version))).all()
            )
        version = memo[_VERSIONS].get(self.name)
        engine = session.get_bind()
        held = self._held.get(engine)
        if version is not None and held is not None and held[0] == version:
            value = held[1]
        else:
            # In a session of its own on the same connection and transaction: what it
            # loads leaves with it, and the caller's session keeps its own copies.
            async with AsyncSession(
                bind=await session.connection(), join_transaction_mode="rollback_only"
            ) as own:
                value = await self.load(own)
                own.expunge_all()
                # A load that had to write (a row an emptied database lacked) gave the
                # cache a new version that may yet be rolled back: keep nothing.
                wrote = own.info.get(_CHANGED, False)
            if version is not None and not wrote:
                self._held[engine] = (version, value)
            if wrote:
                memo.pop(_VERSIONS, None)
        memo[self.name] = value
        return value


def changed(session: Session, names: set[str]) -> None:
    """Give the named caches a new version in the session's transaction."""
    session.info.get(_MEMO, {}).clear()
    session.info[_CHANGED] = True
    dialect = session.get_bind().dialect.name
    for name in sorted(names):  # one order everywhere: no deadlock between two bumps
        version = secrets.randbits(62)
        session.connection().execute(
            upsert(dialect, CacheVersion, {"name": name, "version": version}, ["name"], ["version"])
        )


async def bump(session: AsyncSession, *names: str) -> None:
    """`changed`, for a change no watched model shows (a row made by a loader)."""
    await session.run_sync(changed, set(names))


@event.listens_for(Session, "before_flush")
def _before_flush(session: Session, _context: Any, _instances: Any) -> None:
    if not _WATCHED:
        return
    names: set[str] = set()
    for obj in (*session.new, *session.deleted):
        names |= _WATCHED.get(type(obj), set())
    for obj in session.dirty:
        if type(obj) in _WATCHED and session.is_modified(obj, include_collections=False):
            names |= _WATCHED[type(obj)]
    if names:
        changed(session, names)
