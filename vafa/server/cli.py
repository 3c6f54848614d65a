"""The `vafa` command: the kernel's commands, the fronts' and every domain's."""

from __future__ import annotations

import asyncio
import logging
import os
import signal

import click

from admin.cli import staff
from vafa import cli as kernel
from vafa.database import create_engine, make_sessionmaker
from vafa.domain import Composition
from vafa.server import composition as default_composition
from vafa.server import demo as demo_data
from vafa.settings import Settings
from vafa.worker import run_worker


def build(composition: Composition) -> click.Group:
    @click.group()
    @click.pass_context
    def main(ctx: click.Context) -> None:
        """Vafa: loyalty club and customer portal."""
        ctx.obj = composition  # domain commands build their sessions' event bus from it
        logging.basicConfig(
            level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s"
        )

    @main.command()
    @click.option(
        "--host",
        default=lambda: os.environ.get("HOST", "127.0.0.1"),
        show_default="HOST or 127.0.0.1",
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
    @click.option(
        "--no-worker", is_flag=True, help="Do not run the background worker in this process."
    )
    def run(host: str, port: int, workers: int, no_worker: bool) -> None:
        """Serve the web app (with the background worker, unless told not to)."""
        import uvicorn

        if not no_worker and workers == 1:
            os.environ["VAFA_EMBEDDED_WORKER"] = "1"
        Settings()  # fail fast on bad configuration, before binding the port
        uvicorn.run(
            "vafa.server.app:create_app",
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
        settings = Settings()

        async def runner() -> None:
            engine = create_engine(settings.database_url)
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, stop.set)
            sessionmaker = make_sessionmaker(
                engine, bus=composition.event_bus(settings)
            )
            try:
                await run_worker(settings, sessionmaker, stop, composition.jobs)
            finally:
                await engine.dispose()

        asyncio.run(runner())

    @main.command()
    def demo() -> None:
        """Create a demo club, customers and an owner (only on an empty database)."""
        settings = Settings()
        created = kernel.with_session(
            settings,
            lambda s: demo_data.seed(s, settings=settings, composition=composition),
            bus=composition.event_bus(settings),
        )
        path = demo_data.CREDENTIALS_FILE
        if created is None:
            click.echo("The database already has a club; nothing created.")
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(f"{created[0]}\n{created[1]}\n")
        if path.exists():
            username, password = path.read_text().split("\n")[:2]
            click.echo(f"Demo staff login (at /admin/login): user {username}, password {password}")

    for command in (*kernel.COMMANDS, staff, *composition.commands):
        existing = main.commands.get(command.name or "")
        if isinstance(existing, click.Group) and isinstance(command, click.Group):
            # A domain adds to a group of the same name (`vafa sms pull`).
            command = click.Group(
                existing.name,
                commands={**existing.commands, **command.commands},
                help=existing.help,
            )
        main.add_command(command)
    return main


def main() -> None:
    build(default_composition())()


if __name__ == "__main__":
    main()
