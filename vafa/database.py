"""Engine, declarative base and the session-per-request dependency.

SQLite is configured for a web server: WAL, a busy timeout, foreign keys, and
`BEGIN IMMEDIATE` for write transactions (SQLAlchemy's aiosqlite recipe). Within a
process, write transactions queue on one `asyncio.Lock` before they take SQLite's lock
(`_WriteGate`): SQLite lets one writer in at a time anyway, and writers waiting in
order cost nothing, while writers retrying in SQLite's busy handler sleep in growing
steps (a second or more under load). Processes still meet at SQLite's lock.
"""

from __future__ import annotations

import asyncio
import os
import weakref
from collections.abc import Callable
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, TypeVar, cast

from litestar.di import NamedDependency
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from sqlalchemy import (
    URL,
    CheckConstraint,
    CursorResult,
    DateTime,
    MetaData,
    Result,
    Table,
    event,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator
from sqlalchemy.util import await_only

from vafa import clock
from vafa.events import BUS_KEY, EventBus

# Read-only transactions on SQLite start with a plain (deferred) BEGIN so readers do
# not queue behind writers; everything else takes the write lock up front.
READ_ONLY = "vafa_read_only"

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every engine (SQLite stores naive text)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


M = TypeVar("M", bound=Base)


def one_of(column: str, values: type[StrEnum], name: str | None = None) -> CheckConstraint:
    """`column IN (...)` from the enum that names the concept: one list per concept."""
    allowed = ", ".join(f"'{member.value}'" for member in values)
    return CheckConstraint(f"{column} IN ({allowed})", name=name or column)


async def insert_new(
    session: AsyncSession,
    model: type[Base],
    rows: dict[str, Any] | list[dict[str, Any]],
    *,
    unique: list[str],
    returning: tuple[Any, ...] | None = None,
) -> Any:
    """INSERT ... ON CONFLICT (unique) DO NOTHING on either engine: rows that already
    exist (or are being written by a concurrent transaction) are left alone. Returns
    how many rows were new, or with `returning` (columns) the new rows' values."""
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    # Against the table (Core), with the rows as parameters: one compiled statement
    # serves any number of rows (an ORM multi-VALUES insert compiles anew each time).
    table = cast(Table, model.__table__)
    statement = insert(table).on_conflict_do_nothing(index_elements=unique)
    if returning is not None:
        result = await session.execute(statement.returning(*returning), rows)
        return [tuple(row) for row in result]
    if isinstance(rows, list):  # an executemany's rowcount is not reliable on every driver
        key = table.c[unique[0]]
        return len((await session.execute(statement.returning(key), rows)).all())
    return rowcount(await session.execute(statement, rows))


async def insert_or_skip(
    session: AsyncSession, model: type[M], row: dict[str, Any], *, unique: list[str]
) -> M | None:
    """One row, as a mapped object in the session, or None if one with the same
    `unique` values exists (or is being written by a concurrent transaction, which
    this waits for): a first writer wins without a savepoint or a failed statement."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = (
        insert(model).values(row).on_conflict_do_nothing(index_elements=unique).returning(model)
    )
    return cast(M | None, await session.scalar(statement))


def upsert(
    dialect: str, model: type[Base], row: dict[str, Any], unique: list[str], update: list[str]
) -> Any:
    """INSERT ... ON CONFLICT (unique) DO UPDATE SET the `update` columns, either engine."""
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(cast(Table, model.__table__)).values(row)
    return statement.on_conflict_do_update(
        index_elements=unique, set_={name: statement.excluded[name] for name in update}
    )


def rowcount(result: Result[Any]) -> int:
    """Rows an UPDATE or DELETE changed (what a conditional write checks)."""
    return cast(CursorResult[Any], result).rowcount or 0


def utcnow() -> datetime:
    return clock.now()


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    if url.startswith("sqlite"):
        engine = create_async_engine(url, connect_args={"timeout": 30}, **kwargs)
        _configure_sqlite(engine)
        return engine
    # No pre-ping: it costs a round trip per checkout; a connection the server closed
    # fails its first statement and the pool replaces it.
    return create_async_engine(url, pool_recycle=3600, **kwargs)


# The database file and SQLite's companions to it, which SQLite creates with the
# database file's own permissions.
_SQLITE_SUFFIXES = ("", "-wal", "-shm", "-journal")


def _private_sqlite_file(url: URL) -> None:
    """Create the database file readable by this user only (it holds login codes and
    sessions) before SQLite opens it, and take group and others' access away from one
    made earlier. In-memory and `file:` URI databases are left alone."""
    path = url.database
    if not path or path == ":memory:" or path.startswith("file:") or url.query.get("uri"):
        return
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass
    except OSError:
        return  # no such directory, say: SQLite reports it as it always has
    for name in (path + suffix for suffix in _SQLITE_SUFFIXES):
        try:
            mode = os.stat(name).st_mode & 0o777
            if mode & 0o077:
                os.chmod(name, mode & 0o700)
        except OSError:  # not there, or not ours to change
            continue


def _configure_sqlite(engine: AsyncEngine) -> None:
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "do_connect")
    def _before_connect(*_args: Any) -> None:
        _private_sqlite_file(sync_engine.url)

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, emit BEGIN (see _on_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    gate = _WriteGate()

    @event.listens_for(sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        if conn.get_execution_options().get(READ_ONLY):
            conn.exec_driver_sql("BEGIN")
            return
        gate.enter(conn)
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            gate.leave(conn)
            raise

    @event.listens_for(sync_engine, "commit")
    @event.listens_for(sync_engine, "rollback")
    def _on_end(conn: Any) -> None:
        gate.leave(conn)

    @event.listens_for(sync_engine, "checkin")
    def _on_checkin(dbapi_connection: Any, record: Any) -> None:
        gate.leave_record(record)  # a connection given back mid-transaction (an error)


class _WriteGate:
    """One write transaction at a time per event loop (see the module's docstring).
    Taken in SQLAlchemy's `begin` event, which runs inside the async session's greenlet,
    so it can wait on the loop (`await_only`); given back on commit or rollback."""

    TIMEOUT = 30.0  # as SQLite's busy timeout: then "database is locked", as before
    _HELD = "vafa_write_gate"

    def __init__(self) -> None:
        self._locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )

    def enter(self, conn: Any) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # a synchronous caller (none in the app): SQLite's lock alone
            return
        lock = self._locks.setdefault(loop, asyncio.Lock())
        try:
            await_only(asyncio.wait_for(lock.acquire(), self.TIMEOUT))
        except TimeoutError as error:
            raise OperationalError("BEGIN IMMEDIATE", {}, Exception("database is locked")) from error
        conn.info[self._HELD] = lock  # the pooled connection's own info, kept until checkin

    def leave(self, conn: Any) -> None:
        self._release(conn.info)

    def leave_record(self, record: Any) -> None:
        if record is not None:
            self._release(record.info)

    def _release(self, info: dict[str, Any]) -> None:
        lock = info.pop(self._HELD, None)
        if lock is not None and lock.locked():
            lock.release()


# How handlers ask for the request's session: `db: DB`.
DB = NamedDependency[AsyncSession]

# A route handler whose refusals must still be kept (a wrong one-time code or a wrong
# password counts as an attempt) says so with `opt={COMMIT_REFUSALS: True}`.
COMMIT_REFUSALS = "commit_refusals"
# A GET that writes (a webhook called by GET) says `opt={WRITES: True}`: its session
# takes SQLite's write lock from the start, as a POST's does.
WRITES = "writes"
_SCOPE_KEY = "vafa.db"


def make_sessionmaker(
    engine: AsyncEngine, *, bus: EventBus | None = None
) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(
        engine, expire_on_commit=False, autoflush=True, info={BUS_KEY: bus} if bus else None
    )


async def open_session(
    sessionmaker: async_sessionmaker[AsyncSession], *, read_only: bool = False
) -> AsyncSession:
    session = sessionmaker()
    if read_only:
        await session.connection(execution_options={READ_ONLY: True})
    return session


class RequestSession:
    """The one session of a web request, opened on first use (authentication or the
    handler, whichever comes first) and finished when the response starts: committed
    below 400, rolled back otherwise (unless the handler commits its refusals)."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], read_only: bool) -> None:
        self.sessionmaker = sessionmaker
        self.read_only = read_only
        self.session: AsyncSession | None = None

    async def get(self) -> AsyncSession:
        if self.session is None:
            self.session = await open_session(self.sessionmaker, read_only=self.read_only)
        return self.session

    async def finish(self, status: int, commit_refusals: bool) -> None:
        session, self.session = self.session, None
        if session is None:
            return
        try:
            if status < 400 or (commit_refusals and status < 500):
                await session.commit()
            else:
                await session.rollback()
        finally:
            await session.close()


def request_session(scope: Scope) -> RequestSession:
    holder = scope.get("state", {}).get(_SCOPE_KEY)
    if holder is None:
        raise RuntimeError("database middleware is not installed")
    return cast(RequestSession, holder)


def database_middleware(sessionmaker: Callable[[], async_sessionmaker[AsyncSession]]) -> Any:
    """ASGI middleware owning the request's session (see `RequestSession`)."""

    def factory(app: ASGIApp) -> ASGIApp:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            opt = getattr(scope.get("route_handler"), "opt", None) or {}
            reads = scope.get("method") in ("GET", "HEAD") and not opt.get(WRITES)
            holder = RequestSession(sessionmaker(), reads)
            scope.setdefault("state", {})[_SCOPE_KEY] = holder

            async def send_after_finish(message: Message) -> None:
                if message["type"] == "http.response.start":
                    handler = scope.get("route_handler")
                    opt = getattr(handler, "opt", None) or {}
                    await holder.finish(message["status"], bool(opt.get(COMMIT_REFUSALS)))
                await send(message)

            try:
                await app(scope, receive, send_after_finish)
            finally:
                await holder.finish(500, False)  # no response started: keep nothing

        return middleware

    return factory


async def provide_db(scope: Scope) -> AsyncSession:
    """The request's session for a handler (`db: DB`)."""
    return await request_session(scope).get()
