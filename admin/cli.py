"""`vafa staff ...`: staff accounts from the command line."""

from __future__ import annotations

import sys
from typing import Any

import click
from sqlalchemy.ext.asyncio import AsyncSession

from admin import services
from vafa.actor import Actor
from vafa.cli import with_session
from vafa.errors import UserError
from vafa.permissions import Role
from vafa.settings import Settings


@click.group()
def staff() -> None:
    """Staff accounts."""


@staff.command("create")
@click.option("--username", required=True)
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
def staff_create(username: str, role: str) -> None:
    """Create a staff account; the password is read from standard input."""
    if sys.stdin.isatty():
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\r\n")

    async def work(session: AsyncSession) -> Any:
        return await services.create_staff(
            session, username=username, password=password, role=role, actor=Actor.system("cli")
        )

    try:
        created = with_session(Settings(), work)
    except UserError as exc:
        raise click.ClickException(exc.text("en")) from None
    click.echo(f"Created {created.username} ({created.role}).")
