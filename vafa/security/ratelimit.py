"""Rate limits kept in the database, so they hold across processes and machines.

A sliding window: each counted action is a row; an action is allowed while fewer
than `limit` rows for the same (bucket, key) exist inside the window. On PostgreSQL a
transaction-scoped advisory lock on the key makes count-then-insert atomic; on SQLite
the write transaction (BEGIN IMMEDIATE) already serialises it.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

from sqlalchemy import delete, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from vafa.database import rowcount, utcnow
from vafa.models import RateEvent


def _key(key: str) -> str:
    # Keys may be phone numbers or addresses: keep a digest, not the value.
    return hashlib.sha256(key.encode()).hexdigest()[:64]


async def hit(
    session: AsyncSession, *, bucket: str, key: str, limit: int, window: timedelta
) -> bool:
    """Count one action; False (and nothing counted) when the limit is reached."""
    digest = _key(key)
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        await session.execute(
            text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": f"{bucket}:{digest}"}
        )
    since = utcnow() - window
    count = await session.scalar(
        select(func.count())
        .select_from(RateEvent)
        .where(RateEvent.bucket == bucket, RateEvent.key == digest, RateEvent.at > since)
    )
    if (count or 0) >= limit:
        return False
    session.add(RateEvent(bucket=bucket, key=digest, at=utcnow()))
    await session.flush()
    return True


async def purge(session: AsyncSession, *, older_than: timedelta = timedelta(days=1)) -> int:
    result = await session.execute(delete(RateEvent).where(RateEvent.at < utcnow() - older_than))
    return rowcount(result)
