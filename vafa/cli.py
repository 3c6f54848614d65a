"""The `vafa` command."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import sys
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import click
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from vafa.database import create_engine, make_sessionmaker
from vafa.settings import ROLES, Settings

T = TypeVar("T")


def _with_session(settings: Settings, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    async def runner() -> T:
        engine = create_engine(settings.database_url)
        try:
            async with make_sessionmaker(engine)() as session, session.begin():
                return await work(session)
        finally:
            await engine.dispose()

    return asyncio.run(runner())


@click.group()
def main() -> None:
    """Vafa: loyalty club and customer portal."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")


@main.command()
@click.option(
    "--host", default=lambda: os.environ.get("HOST", "127.0.0.1"), show_default="HOST or 127.0.0.1"
)
@click.option(
    "--port",
    default=lambda: int(os.environ.get("PORT", "8000")),
    type=int,
    show_default="PORT or 8000",
)
@click.option(
    "--workers", default=1, type=int, help="Web processes (use `vafa worker` beside them)."
)
@click.option("--no-worker", is_flag=True, help="Do not run the background worker in this process.")
def run(host: str, port: int, workers: int, no_worker: bool) -> None:
    """Serve the web app (with the background worker, unless told not to)."""
    import uvicorn

    if not no_worker and workers == 1:
        os.environ["VAFA_EMBEDDED_WORKER"] = "1"
    Settings()  # fail fast on bad configuration, before binding the port
    uvicorn.run(
        "vafa.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=False,
        server_header=False,
        log_level="info",
    )


@main.command()
def worker() -> None:
    """Run the background worker (SMS delivery, scheduled jobs) until stopped."""
    from vafa.worker import run_worker

    settings = Settings()

    async def runner() -> None:
        engine = create_engine(settings.database_url)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        try:
            await run_worker(settings, make_sessionmaker(engine), stop)
        finally:
            await engine.dispose()

    asyncio.run(runner())


@main.group()
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


@main.command()
@click.option("--customers", default=40, type=int, show_default=True)
def demo(customers: int) -> None:
    """Create a demo club, customers and an owner (only on an empty database)."""
    from vafa.demo import CREDENTIALS_FILE, seed

    created = _with_session(Settings(), lambda s: seed(s, customers=customers))
    if created is None:
        click.echo("The database already has a club; nothing created.")
    else:
        CREDENTIALS_FILE.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(CREDENTIALS_FILE, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(f"{created[0]}\n{created[1]}\n")
    if CREDENTIALS_FILE.exists():
        username, password = CREDENTIALS_FILE.read_text().split("\n")[:2]
        click.echo(f"Demo staff login (at /admin/login): user {username}, password {password}")


@main.group()
def staff() -> None:
    """Staff accounts."""


@staff.command("create")
@click.option("--username", required=True)
@click.option("--role", required=True, type=click.Choice(ROLES))
def staff_create(username: str, role: str) -> None:
    """Create a staff account; the password is read from standard input."""
    from admin import service

    if sys.stdin.isatty():
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\r\n")

    async def work(session: AsyncSession) -> Any:
        return await service.create_staff(
            session, username=username, password=password, role=role, actor_id=None
        )

    try:
        created = _with_session(Settings(), work)
    except service.StaffError as exc:
        raise click.ClickException(exc.args[0]) from None
    click.echo(f"Created {created.username} ({created.role}).")


@main.group()
def ledger() -> None:
    """The points ledger."""


@ledger.command("verify")
def ledger_verify() -> None:
    """Check every wallet: balance = journal = lot remainders, and that the books
    balance. Exits non-zero and names each wallet that does not add up."""
    from loyalty.verify import verify

    problems = _with_session(Settings(), verify)
    for problem in problems:
        click.echo(str(problem), err=True)
    if problems:
        raise SystemExit(1)
    click.echo("Ledger verified: every wallet adds up and the books balance.")


@main.group()
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

    for m in _with_session(Settings(), work):
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


if __name__ == "__main__":
    main()
