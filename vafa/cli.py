"""The kernel's commands (`vafa db`, `vafa sms`) and the helper every command uses to
run in one transaction. The `vafa` command itself is assembled in `vafa.server.cli`."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import click
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from vafa.database import create_engine, make_sessionmaker
from vafa.events import EventBus
from vafa.settings import Settings

T = TypeVar("T")


def with_session(
    settings: Settings,
    work: Callable[[AsyncSession], Awaitable[T]],
    *,
    bus: EventBus | None = None,
) -> T:
    """Run `work` in one transaction (committed when it returns) and return its result."""

    async def runner() -> T:
        engine = create_engine(settings.database_url)
        try:
            async with make_sessionmaker(engine, bus=bus)() as session, session.begin():
                return await work(session)
        finally:
            await engine.dispose()

    return asyncio.run(runner())


@click.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Apply migrations (keeps existing data)."""
    from vafa import migrate

    migrate.upgrade(Settings(), revision)


@db.command("current")
def db_current() -> None:
    from vafa import migrate

    migrate.current(Settings())


@click.group()
def sms() -> None:
    """SMS transport."""


@sms.command("outbox")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@click.option("--limit", default=50, type=int, show_default=True)
@click.option("--to", "to", default=None, help="Only messages to this number.")
def sms_outbox(as_json: bool, limit: int, to: str | None) -> None:
    """List outgoing messages, newest first."""
    from vafa.i18n.normalize import InvalidPhone, normalize_phone
    from vafa.models import SmsMessage

    query = select(SmsMessage).order_by(SmsMessage.id.desc()).limit(limit)
    if to:
        try:
            query = query.where(SmsMessage.to == normalize_phone(to))
        except InvalidPhone:
            raise click.BadParameter("not a mobile number", param_hint="--to") from None

    async def work(session: AsyncSession) -> list[Any]:
        return list((await session.scalars(query)).all())

    for m in with_session(Settings(), work):
        row = {
            "id": m.id,
            "to": m.to,
            "body": m.body,
            "kind": m.kind,
            "status": m.status,
            "attempts": m.attempts,
            "created_at": m.created_at.isoformat(),
            "sent_at": m.sent_at.isoformat() if m.sent_at else None,
            "provider_message_id": m.provider_message_id,
            "last_error": m.last_error,
        }
        if as_json:
            click.echo(json.dumps(row, ensure_ascii=False))
        else:
            click.echo(f"{m.created_at:%Y-%m-%d %H:%M} {m.to:<14} {m.status:<8} {m.body}")


COMMANDS = (db, sms)
