"""The web application, assembled from the fronts and the domains' declarations."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager, suppress
from typing import Any

from litestar import Litestar, Router, get
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import State
from litestar.di import Provide
from litestar.exceptions import HTTPException
from litestar.logging import LoggingConfig
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from litestar.static_files import create_static_files_router
from litestar.template import TemplateConfig
from sqlalchemy import text

from admin.web import NAV as ADMIN_NAV
from admin.web import admin_router
from portal.web import portal_router
from vafa.club import ClubCache
from vafa.database import DB, create_engine, database_middleware, make_sessionmaker, provide_db
from vafa.domain import Composition
from vafa.errors import UserError
from vafa.server import composition as default_composition
from vafa.settings import ROOT, Settings
from vafa.web.errors import http_exception_handler, internal_error_handler, user_error_handler
from vafa.web.forms import FormRequest
from vafa.web.middleware import language_middleware, security_headers
from vafa.web.templating import template_engine
from vafa.worker import run_worker

log = logging.getLogger("vafa")

# A webhook's URL carries its secret (`/hooks/<provider>/<service>/<secret>/...`).
_HOOK_SECRET = re.compile(r"(/hooks/[^/?\s]+/[^/?\s]+/)[^/?\s]+")


class HideHookSecrets(logging.Filter):
    """Logs show webhook URLs with the secret replaced by ***: the server's access log
    and the log of unhandled errors (which names the path)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                _HOOK_SECRET.sub(r"\1***", arg) if isinstance(arg, str) else arg
                for arg in record.args
            )
        elif isinstance(record.msg, str):
            record.msg = _HOOK_SECRET.sub(r"\1***", record.msg)
        return True


def hide_hook_secrets() -> None:
    for name in ("uvicorn.access", "vafa.web"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, HideHookSecrets) for f in logger.filters):
            logger.addFilter(HideHookSecrets())


@get("/healthz", exclude_from_csrf=True, opt={"exclude_from_auth": True})
async def healthz(db: DB) -> dict[str, str]:
    """Liveness and database reachability, for load balancers (a read: it never
    waits for SQLite's write lock)."""
    await db.execute(text("SELECT 1"))
    return {"status": "ok"}


def create_app(settings: Settings | None = None, composition: Composition | None = None) -> Litestar:
    settings = settings or Settings()
    composition = composition or default_composition()
    hide_hook_secrets()  # in every web process, after the server set up its logging
    club = ClubCache(settings)
    state = State({"settings": settings, "composition": composition, "club": club})

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        engine = create_engine(settings.database_url)
        app.state.engine = engine
        app.state.sessionmaker = make_sessionmaker(
            engine, bus=composition.event_bus(settings)
        )
        stop = asyncio.Event()
        await club.refresh(app.state.sessionmaker)
        tasks = [asyncio.create_task(club.follow(app.state.sessionmaker, stop))]
        if settings.embedded_worker:
            tasks.append(
                asyncio.create_task(
                    run_worker(settings, app.state.sessionmaker, stop, composition.jobs)
                )
            )
        try:
            async with AsyncExitStack() as domains:
                for enter in composition.lifespan:
                    await domains.enter_async_context(enter(app))
                yield
        finally:
            stop.set()
            for task in tasks:
                with suppress(asyncio.CancelledError):
                    await asyncio.wait_for(task, timeout=10)
            await engine.dispose()

    admin_nav = sorted([*ADMIN_NAV, *composition.admin_nav], key=lambda e: e.order)
    state.admin_nav = admin_nav  # a staff member's first page is the first entry they may open
    template_globals: dict[str, Any] = {
        **composition.template_helpers,
        "portal_nav": composition.portal_nav,
        "admin_nav": admin_nav,
    }
    handlers: list[Any] = [
        portal_router(settings, composition.portal),
        admin_router(settings, composition.admin, composition.staff_alerts),
        healthz,
        create_static_files_router(
            path="/static",
            directories=[ROOT / "static"],
            send_as_attachment=False,
            include_in_schema=False,
        ),
    ]
    if composition.api:
        handlers.append(Router(path="/api", route_handlers=composition.api))
    if composition.hooks:
        handlers.append(Router(path="/hooks", route_handlers=composition.hooks))
    return Litestar(
        route_handlers=handlers,
        lifespan=[lifespan],
        dependencies={
            "db": Provide(provide_db),
            "settings": Provide(lambda: settings, sync_to_thread=False, use_cache=True),
        },
        state=state,
        middleware=[
            language_middleware(settings.default_language),
            database_middleware(lambda: state.sessionmaker),
        ],
        before_send=[security_headers(settings)],
        # Its form answers 400 to text in a wrong or unknown charset.
        request_class=FormRequest,
        csrf_config=CSRFConfig(
            secret=settings.secret_key,
            cookie_name="vafa_csrf",
            cookie_secure=settings.cookie_secure,
            cookie_httponly=True,
            exclude=["/healthz", "/api/", "/hooks/"],
        ),
        template_config=TemplateConfig(
            engine=template_engine(settings, template_globals, composition.labels, club)
        ),
        openapi_config=OpenAPIConfig(
            title="Vafa",
            version="0.1.0",
            path="/schema",
            render_plugins=[JsonRenderPlugin(path=["/", "/openapi.json"])],
            # The API's callers (partners' tills) authenticate with a bearer key.
            components=Components(
                security_schemes={
                    "BearerAuth": SecurityScheme(
                        type="http", scheme="bearer", description="A partner's API key"
                    )
                }
            ),
        ),
        exception_handlers={
            UserError: user_error_handler,
            HTTPException: http_exception_handler,
            500: internal_error_handler,
        },
        request_max_body_size=settings.max_body_bytes,
        logging_config=LoggingConfig(
            root={"level": "INFO", "handlers": ["queue_listener"]},
            log_exceptions="always" if settings.debug else "never",
        ),
        debug=settings.debug,
    )
