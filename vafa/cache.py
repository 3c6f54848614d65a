"""Data every request needs and staff rarely change (the points programme, its rules
and tiers), kept in each process and read again only when it has changed.

A domain names the models a cache is made of (`Cache(name, load, models)`). A flush
that adds, changes or deletes one of them gives the cache's row in `cache_versions` a
new random version, in the same transaction (a random value, not a counter: a database
emptied and filled again never shows an old version). A reader reads that row (one
primary-key read, once per session) and uses its copy only if the version is the one
it was loaded under, so a change committed by any process is seen by every process's
next transaction. With no version row, nothing is kept.

What the loader returns must not be attached to a session (`session.expunge`), and
must not be changed: it is shared by every request of the process.
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
        version = await session.scalar(
            select(CacheVersion.version).where(CacheVersion.name == self.name)
        )
        engine = session.get_bind()
        held = self._held.get(engine)
        if version is not None and held is not None and held[0] == version:
            value = held[1]
        else:
            value = await self.load(session)
            if version is not None:
                self._held[engine] = (version, value)
        memo[self.name] = value
        return value


def changed(session: Session, names: set[str]) -> None:
    """Give the named caches a new version in the session's transaction."""
    session.info.get(_MEMO, {}).clear()
    dialect = session.get_bind().dialect.name
    for name in sorted(names):  # one order everywhere: no deadlock between two bumps
        version = secrets.randbits(62)
        session.connection().execute(
            upsert(dialect, CacheVersion, {"name": name, "version": version}, ["name"], ["version"])
        )


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
