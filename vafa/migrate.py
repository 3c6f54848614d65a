"""Alembic, driven from Python: `vafa db upgrade` and the test setup use it."""

from __future__ import annotations

import threading

from alembic import command
from alembic.config import Config

from vafa.settings import ROOT, Settings


def alembic_config(settings: Settings) -> Config:
    config = Config()
    config.set_main_option("script_location", str(ROOT / "migrations"))
    # Alembic's ini interpolation treats % specially.
    config.set_main_option("sqlalchemy.url", settings.database_url.replace("%", "%%"))
    return config


def upgrade(settings: Settings, revision: str = "head") -> None:
    command.upgrade(alembic_config(settings), revision)


def current(settings: Settings) -> None:
    command.current(alembic_config(settings), verbose=True)


def upgrade_in_thread(settings: Settings, revision: str = "head") -> None:
    """`upgrade` from code that may already run an event loop: Alembic's env runs its
    own loop, so it gets a thread of its own. Errors are raised here."""
    errors: list[BaseException] = []

    def work() -> None:
        try:
            upgrade(settings, revision)
        except BaseException as exc:  # re-raised below, in the caller's thread
            errors.append(exc)

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]
