"""The app built from the settings: for uvicorn's worker processes (``posrefund serve --workers N``), which
build everything from the environment, and for ``posrefund serve`` in one process, which brings its own
channel router (the simulators') — one list of what the settings decide, for both."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from posrefund import bootstrap
from posrefund.config import Settings
from posrefund.entrypoints import heap
from posrefund.entrypoints.api.app import create_app
from posrefund.entrypoints.logging_setup import configure
from posrefund.service.deps import Deps
from posrefund.service.execution import Router
from posrefund.service.notifications.sending import NotifyRouter


def app_from_settings(settings: Settings, deps: Deps, router: Router, notify_router: NotifyRouter) -> FastAPI:
    app = create_app(
        deps,
        inline=settings.database_url.startswith("sqlite"),
        token_minutes=settings.token_minutes,
        router=router,
        refresh_hours=settings.refresh_hours,
        console_idle_minutes=settings.console_idle_minutes,
        rate_limits=settings.rate_limits,
        behind_https=settings.behind_https,
        metrics_token=settings.metrics_token,
    )
    app.state.ctx.notify_router = notify_router  # tracking links in messages and the console
    app.router.lifespan_context = _settled
    return app


@asynccontextmanager
async def _settled(_app: FastAPI) -> AsyncIterator[None]:
    """The server's start: everything is built, so the heap is settled (``heap.settle``) before the first request."""
    heap.settle()
    yield


def build_app() -> FastAPI:
    settings = Settings()
    configure(settings.log_level, settings.log_file)
    deps = bootstrap.build(settings)
    router = bootstrap.build_router(settings, deps)
    bootstrap.load_calendar_overrides(deps, router)
    return app_from_settings(settings, deps, router, bootstrap.build_notify_router(settings))
