"""`vafa sms pull` and `vafa sms webhook`: the lines' incoming side from the command
line (added to the kernel's `vafa sms` group)."""

from __future__ import annotations

import click
from sqlalchemy.ext.asyncio import AsyncSession

from sms_codes import inbound
from sms_codes.jobs import answer_waiting, gateway
from vafa.cli import with_session
from vafa.domain import Composition
from vafa.settings import Settings


@click.group()
def sms() -> None:
    """SMS lines."""


@sms.command("pull")
def sms_pull() -> None:
    """Read the lines' unread messages from Kavenegar (`sms/receive`) and answer them:
    for a setup Kavenegar cannot reach by webhook."""
    settings = Settings()
    composition: Composition = click.get_current_context().find_root().obj

    async def work(session: AsyncSession) -> tuple[int, int]:
        stored = await inbound.pull(session, gateway(settings))
        return stored, await answer_waiting(session, settings)

    stored, answered = with_session(settings, work, bus=composition.event_bus(settings))
    click.echo(f"{stored} new messages, {answered} answered.")


@sms.command("webhook")
@click.option("--base", default=None, help="The public address (default: VAFA_PUBLIC_URL).")
def sms_webhook(base: str | None) -> None:
    """The URLs to give Kavenegar's panel: incoming messages and delivery reports.
    They carry the webhook secret: keep them out of tickets and chats."""
    settings = Settings()
    root = (base or settings.public_url or "https://YOUR-HOST").rstrip("/")
    hook = f"{root}/hooks/sms/kavenegar/{settings.sms_webhook_secret}"
    click.echo(f"Incoming SMS:      {hook}")
    click.echo(f"Delivery reports:  {hook}/delivery")
