"""Rate limits kept in the database, so they hold across processes and machines.

A sliding window: each counted action is a row; an action is allowed while fewer
than `limit` rows for the same (bucket, key) exist inside the window. On PostgreSQL a
transaction-scoped advisory lock on the key makes count-then-insert atomic; on SQLite
the write transaction (BEGIN IMMEDIATE) already serialises it.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from vafa.database import rowcount, utcnow
from vafa.models import RateEvent


def _key(key: str) -> str:
    # Keys may be phone numbers or addresses: keep a digest, not the value.
    return hashlib.sha256(key.encode()).hexdigest()[:64]


async def _lock(session: AsyncSession, bucket: str, digest: str) -> None:
    # One counted action at a time per key (SQLite's write transaction already is).
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        await session.execute(
            text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": f"{bucket}:{digest}"}
        )


async def recent(
    session: AsyncSession, *, bucket: str, key: str, window: timedelta
) -> tuple[int, datetime | None]:
    """How many actions were counted for `key` inside the window, and the latest one's
    time. Takes the key's lock, so a `record` in the same transaction follows it."""
    digest = _key(key)
    await _lock(session, bucket, digest)
    count, latest = (
        await session.execute(
            select(func.count(), func.max(RateEvent.at)).where(
                RateEvent.bucket == bucket,
                RateEvent.key == digest,
                RateEvent.at > utcnow() - window,
            )
        )
    ).one()
    return count or 0, latest


async def record(session: AsyncSession, *, bucket: str, key: str) -> None:
    session.add(RateEvent(bucket=bucket, key=_key(key), at=utcnow()))
    await session.flush()


async def forget(session: AsyncSession, *, bucket: str, key: str) -> None:
    """Start counting `key` again from nothing."""
    await session.execute(
        delete(RateEvent).where(RateEvent.bucket == bucket, RateEvent.key == _key(key))
    )


async def hit(
    session: AsyncSession, *, bucket: str, key: str, limit: int, window: timedelta
) -> bool:
    """Count one action; False (and nothing counted) when the limit is reached."""
    count, _ = await recent(session, bucket=bucket, key=key, window=window)
    if count >= limit:
        return False
    await record(session, bucket=bucket, key=key)
    return True


async def purge(session: AsyncSession, *, older_than: timedelta = timedelta(days=1)) -> int:
    result = await session.execute(delete(RateEvent).where(RateEvent.at < utcnow() - older_than))
    return rowcount(result)
