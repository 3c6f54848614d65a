"""The current time, which the demo (and tests) can set: history recorded "as of" a
past day goes through the same services as today's."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime

_frozen: ContextVar[datetime | None] = ContextVar("vafa_clock", default=None)


def now() -> datetime:
    return _frozen.get() or datetime.now(UTC)


@contextmanager
def frozen_at(moment: datetime) -> Iterator[None]:
    """Inside this block (this task only), the time is `moment`."""
    if moment.tzinfo is None:
        raise ValueError("a frozen time must be aware")
    token = _frozen.set(moment)
    try:
        yield
    finally:
        _frozen.reset(token)
