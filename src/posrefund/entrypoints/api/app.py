"""The FastAPI app factory: routers, the one error mapper, the card-number guard, access logs."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from posrefund import __version__
from posrefund.domain.errors import DomainError
from posrefund.entrypoints import console  # console (issue 4)
from posrefund.entrypoints.api import errors
from posrefund.entrypoints.api.access_log import AccessLog
from posrefund.entrypoints.api.context import AppContext
from posrefund.entrypoints.api.pii_guard import PiiGuard
from posrefund.entrypoints.api.routers import admin, auth, calendar, callbacks, evidence, refunds, sales
from posrefund.ports import ConcurrentUpdate
from posrefund.service.deps import Deps
from posrefund.service.execution import Router


def create_app(deps: Deps, *, inline: bool, token_minutes: int = 480, router: Router | None = None) -> FastAPI:
    app = FastAPI(
        title="posrefund",
        version=__version__,
        description="Refunds of POS payments: sales, refund cases, review, audit. "
        "Amounts are integer fen (`*_fen`) with a `currency`; errors are `{code, message, params}`.",
    )
    app.state.ctx = AppContext(deps, inline=inline, token_minutes=token_minutes, router=router)
    for api in (
        auth.router,
        admin.router,
        sales.router,
        refunds.router,
        evidence.router,
        callbacks.router,
        calendar.router,
    ):
        app.include_router(api)
    app.add_exception_handler(DomainError, errors.on_domain_error)
    app.add_exception_handler(ConcurrentUpdate, errors.on_concurrent_update)
    app.add_exception_handler(RequestValidationError, errors.on_validation_error)
    app.add_exception_handler(StarletteHTTPException, errors.on_http_error)

    app.add_middleware(PiiGuard)
    app.add_middleware(AccessLog)

    console.mount(app)  # console (issue 4): the web console at /console

    @app.get("/healthz", tags=["ops"])
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    return app
