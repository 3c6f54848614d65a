"""`vafa ledger ...`: the points ledger from the command line."""

from __future__ import annotations

import click

from loyalty.verify import verify
from vafa.cli import with_session
from vafa.settings import Settings


@click.group()
def ledger() -> None:
    """The points ledger."""


@ledger.command("verify")
def ledger_verify() -> None:
    """Check every wallet: balance = journal = lot remainders, and that the books
    balance. Exits non-zero and names each wallet that does not add up."""
    problems = with_session(Settings(), verify)
    for problem in problems:
        click.echo(str(problem), err=True)
    if problems:
        raise SystemExit(1)
    click.echo("Ledger verified: every wallet adds up and the books balance.")
