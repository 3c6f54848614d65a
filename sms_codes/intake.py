"""Incoming SMS inside a web process: stored in batches, answered right after.

The webhook hands each message to the process's `Intake` and answers 200 once the
message is committed (never before: nothing is lost). A writer task commits every
message waiting at that moment in one transaction (a group commit: a burst costs one
commit, not one per message). An answering task then answers what was stored, a small
batch per transaction. The two take turns on one lock, so the process never competes
with itself for SQLite's write lock, and a burst of arrivals waits at most one small
batch of answers; in a burst, answering yields most of the time to storing
(`ANSWER_SHARE`). A message a process stored but could not answer (a
crash, a stop) is answered by the worker.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from sms_codes import inbound
from vafa.settings import Settings
from vafa.sms.gateway import Received

log = logging.getLogger("vafa")

BATCH = 500  # messages stored in one transaction
ANSWER_BATCH = 20  # messages answered in one transaction when nothing else waits
# In a burst (a store batch of BURST messages or more: hundreds a second), answering
# takes at most 1/ANSWER_SHARE of the process's time, so the webhook stays fast and
# the answers catch up after it. Ordinary traffic is answered at once.
BURST = 8
ANSWER_SHARE = 4
STATE_KEY = "sms_codes_intake"


class Intake:
    def __init__(self, sessionmaker: Callable[[], AsyncSession], settings: Settings) -> None:
        self.sessionmaker = sessionmaker
        self.settings = settings
        self.queue: asyncio.Queue[tuple[Received, asyncio.Future[int | None]]] = asyncio.Queue()
        self.stored: deque[int] = deque()
        self.turns = asyncio.Lock()  # one write transaction of this process at a time
        self.arrived = asyncio.Event()
        self.last_batch = 0  # messages in the latest store batch

    async def accept(self, message: Received) -> int | None:
        """Returns once the message is committed: its new row's id, or None when it
        had come before."""
        done: asyncio.Future[int | None] = asyncio.get_running_loop().create_future()
        await self.queue.put((message, done))
        return await done

    async def store_forever(self) -> None:
        while True:
            batch = [await self.queue.get()]
            async with self.turns:
                while len(batch) < BATCH and not self.queue.empty():
                    batch.append(self.queue.get_nowait())
                await self._store(batch)
            self.last_batch = len(batch)
            self.arrived.set()

    async def answer_forever(self) -> None:
        while True:
            await self.arrived.wait()
            self.arrived.clear()
            loop = asyncio.get_running_loop()
            while self.stored:
                async with self.turns:
                    started = loop.time()
                    await self._answer()
                    spent = loop.time() - started
                if self.last_batch >= BURST and not self.queue.empty():
                    await asyncio.sleep(spent * (ANSWER_SHARE - 1))

    async def _store(self, batch: list[tuple[Received, asyncio.Future[int | None]]]) -> None:
        try:
            async with self.sessionmaker() as session, session.begin():
                ids = await inbound.receive_many(session, [m for m, _ in batch], source="hook")
        except Exception as exc:  # each request answers 500; Kavenegar sends again
            for _, done in batch:
                if not done.done():
                    done.set_exception(exc)
            return
        self.stored.extend(sorted(ids.values()))
        for message, done in batch:
            if not done.done():
                # The first of twins in one batch gets the new id; a repeat gets None.
                done.set_result(ids.pop(message.messageid, None))

    async def _answer(self) -> None:
        """Answer stored messages in one transaction, until ANSWER_BATCH or until new
        arrivals wait for the lock (they are committed first)."""
        batch: list[int] = []
        try:
            async with self.sessionmaker() as session, session.begin():
                while self.stored and len(batch) < ANSWER_BATCH:
                    if batch and not self.queue.empty():
                        break
                    inbound_id = self.stored.popleft()
                    batch.append(inbound_id)
                    try:
                        async with session.begin_nested():
                            await inbound.process(session, inbound_id, self.settings)
                    except Exception:
                        log.exception("incoming SMS %s left for the worker", inbound_id)
        except Exception:
            log.exception("incoming SMS %s left for the worker", batch)


@asynccontextmanager
async def running(app: Any) -> AsyncIterator[None]:
    """The process's intake, on `app.state` while the app serves."""
    intake = Intake(app.state.sessionmaker, app.state.settings)
    app.state[STATE_KEY] = intake
    tasks = [
        asyncio.create_task(intake.store_forever()),
        asyncio.create_task(intake.answer_forever()),
    ]
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with suppress(asyncio.CancelledError):
                await task


def intake_of(app: Any) -> Intake:
    intake = app.state.get(STATE_KEY)
    if not isinstance(intake, Intake):
        raise RuntimeError("the SMS intake is not running; the app's lifespan starts it")
    return intake
