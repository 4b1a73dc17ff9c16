"""The web console at ``/console``: Jinja2 pages and htmx, over the same service layer as the API."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from fastapi import FastAPI
from starlette.staticfiles import StaticFiles

from posrefund.entrypoints.api.context import AppContext
from posrefund.entrypoints.console import pages
from posrefund.entrypoints.console.session import IDLE, Sessions

# Sign-in first, then the refund desk and cases, then the rest of the business.
PAGES = (
    pages.auth,
    pages.account,
    pages.desk,
    pages.cases,
    pages.case_actions,
    pages.case_to_card,
    pages.search,
    pages.reports,
    pages.admin,
    pages.case_notifications,
    pages.disputes,
    pages.notification_settings,
    pages.recon_desk,
    pages.reconciliation,
    pages.wrong_charges,
    pages.documents,
    pages.fees,
    pages.provider,
    pages.provider_desk,
    pages.provider_terminals,
    pages.till,
    pages.slips,
    pages.audit,
    pages.home,
    pages.report_charts,
    pages.risk,
    pages.deposits,
    pages.deposit_case,
    pages.hold_record,  # before the hold's own page: /holds/new is not a hold's id
    pages.holds,
    pages.demo_inbox,
)
STATIC = Path(__file__).parent / "static"


def mount(app: FastAPI, idle: timedelta = IDLE, *, secure_cookies: bool = False) -> None:
    """The console's pages on ``app``; a signed-in operator idle for ``idle`` is signed out.
    ``secure_cookies``: the console is served over HTTPS by a proxy, so its cookies are always Secure."""
    ctx = app.state.ctx
    assert isinstance(ctx, AppContext)
    app.state.console_sessions = Sessions(ctx.deps.secret_key, idle=idle, always_secure=secure_cookies)
    for page in PAGES:
        app.include_router(page.router)
    app.include_router(pages.auth.root)
    app.mount("/console/static", StaticFiles(directory=STATIC), name="console-static")
