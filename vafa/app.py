"""The application factory: one Litestar app composing the portal and the admin."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import Any

from litestar import Litestar, get
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import State
from litestar.di import Provide
from litestar.exceptions import HTTPException
from litestar.logging import LoggingConfig
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.static_files import create_static_files_router
from litestar.template import TemplateConfig
from sqlalchemy import text

from admin.web import admin_router
from loyalty.rewards import description as reward_description
from loyalty.rewards import title as reward_title
from loyalty.tiers import tier_name
from portal.web import portal_router
from vafa.database import create_engine, make_sessionmaker, provide_db
from vafa.settings import ROOT, Settings
from vafa.web.errors import http_exception_handler, internal_error_handler
from vafa.web.middleware import language_middleware, security_headers
from vafa.web.templating import in_language, template_engine
from vafa.worker import run_worker

log = logging.getLogger("vafa")


@get("/healthz", exclude_from_csrf=True)
async def healthz(state: State) -> dict[str, str]:
    """Liveness and database reachability, for load balancers."""
    async with state.sessionmaker() as session:
        await session.execute(text("SELECT 1"))
    return {"status": "ok"}


def template_helpers() -> dict[str, Any]:
    """Helpers the domain packages give every template."""
    return {
        "tier_name": in_language(tier_name),
        "reward_title": in_language(reward_title),
        "reward_description": in_language(reward_description),
    }


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        engine = create_engine(settings.database_url)
        app.state.engine = engine
        app.state.sessionmaker = make_sessionmaker(engine)
        stop = asyncio.Event()
        task = None
        if settings.embedded_worker:
            task = asyncio.create_task(run_worker(settings, app.state.sessionmaker, stop))
        try:
            yield
        finally:
            stop.set()
            if task is not None:
                with suppress(asyncio.CancelledError):
                    await asyncio.wait_for(task, timeout=10)
            await engine.dispose()

    return Litestar(
        route_handlers=[
            portal_router(settings),
            admin_router(settings),
            healthz,
            create_static_files_router(
                path="/static",
                directories=[ROOT / "static"],
                send_as_attachment=False,
                include_in_schema=False,
            ),
        ],
        lifespan=[lifespan],
        dependencies={"db": Provide(provide_db)},
        state=State({"settings": settings}),
        middleware=[language_middleware(settings.default_language)],
        before_send=[security_headers],
        csrf_config=CSRFConfig(
            secret=settings.secret_key,
            cookie_name="vafa_csrf",
            cookie_secure=settings.cookie_secure,
            cookie_httponly=True,
            exclude=["/healthz"],
        ),
        template_config=TemplateConfig(engine=template_engine(settings, template_helpers())),
        openapi_config=OpenAPIConfig(
            title="Vafa",
            version="0.1.0",
            path="/schema",
            render_plugins=[JsonRenderPlugin(path=["/", "/openapi.json"])],
        ),
        exception_handlers={HTTPException: http_exception_handler, 500: internal_error_handler},
        request_max_body_size=settings.max_body_bytes,
        logging_config=LoggingConfig(
            root={"level": "INFO", "handlers": ["queue_listener"]},
            log_exceptions="always" if settings.debug else "never",
        ),
        debug=settings.debug,
    )
