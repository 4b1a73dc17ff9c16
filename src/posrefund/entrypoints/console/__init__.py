"""The web console at ``/console``: Jinja2 pages and htmx, over the same service layer as the API."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from starlette.staticfiles import StaticFiles

from posrefund.entrypoints.api.context import AppContext
from posrefund.entrypoints.console import (
    pages_admin,
    pages_auth,
    pages_cases,
    pages_cnotify,
    pages_cnotify_admin,
    pages_cnotify_disputes,
    pages_crecon,
    pages_desk,
    pages_reports,
)
from posrefund.entrypoints.console.session import Sessions

# The core pages, then notifications and disputes (issue 5), then reconciliation (issue 6).
PAGES = (
    pages_auth,
    pages_desk,
    pages_cases,
    pages_reports,
    pages_admin,
    pages_cnotify,
    pages_cnotify_disputes,
    pages_cnotify_admin,
    pages_crecon,
)
STATIC = Path(__file__).parent / "static"


def mount(app: FastAPI) -> None:
    ctx = app.state.ctx
    assert isinstance(ctx, AppContext)
    app.state.console_sessions = Sessions(ctx.deps.secret_key)
    for pages in PAGES:
        app.include_router(pages.router)
    app.mount("/console/static", StaticFiles(directory=STATIC), name="console-static")
