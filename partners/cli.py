"""`vafa partner ...`: register partners and manage their API keys from the command
line. Each command prints one JSON object, for scripts."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import click
from sqlalchemy.ext.asyncio import AsyncSession

from partners import services
from vafa.actor import Actor
from vafa.cli import with_session
from vafa.domain import Composition
from vafa.errors import UserError
from vafa.settings import Settings

T = TypeVar("T")
CLI = Actor.system("cli")


def _run(work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    settings = Settings()
    composition: Composition = click.get_current_context().find_root().obj
    try:
        return with_session(settings, work, bus=composition.event_bus(settings))
    except UserError as error:
        raise click.ClickException(str(error)) from None


def _echo(value: dict[str, Any]) -> None:
    click.echo(json.dumps(value, ensure_ascii=False))


@click.group()
def partner() -> None:
    """Partners: businesses where members earn and spend the club's points."""


@partner.command("create")
@click.option("--name", required=True, help="The partner's name (in the club's language).")
@click.option("--earn", is_flag=True, help="Members earn points there.")
@click.option("--redeem", is_flag=True, help="Members spend points there.")
def partner_create(name: str, earn: bool, redeem: bool) -> None:
    """Register a partner; prints it with its `id`."""
    language = Settings().default_language

    async def work(session: AsyncSession) -> dict[str, Any]:
        created = await services.create_partner(
            session,
            actor=CLI,
            terms=services.Terms(name={language: name.strip()}, earn=earn, redeem=redeem),
        )
        return {
            "id": created.id,
            "name": created.name,
            "earn": created.earn,
            "redeem": created.redeem,
            "account_id": created.account_id,
        }

    _echo(_run(work))


@partner.group("key")
def key() -> None:
    """A partner's API keys."""


@key.command("create")
@click.argument("partner_id", type=int)
@click.option("--name", required=True, help="What the key is for, such as the till.")
def key_create(partner_id: int, name: str) -> None:
    """A new API key; prints its `id` and the `key` itself, shown this once."""

    async def work(session: AsyncSession) -> dict[str, Any]:
        made = await services.create_key(session, actor=CLI, partner_id=partner_id, name=name)
        return {
            "id": made.key.id,
            "partner_id": made.key.partner_id,
            "name": made.key.name,
            "key": made.secret,
        }

    _echo(_run(work))


@key.command("revoke")
@click.argument("key_id", type=int)
def key_revoke(key_id: int) -> None:
    """Revoke a key: every process refuses it from its next request."""

    async def work(session: AsyncSession) -> dict[str, Any]:
        revoked = await services.revoke_key(session, actor=CLI, key_id=key_id)
        assert revoked.revoked_at is not None
        return {"id": revoked.id, "revoked_at": revoked.revoked_at.isoformat()}

    _echo(_run(work))
