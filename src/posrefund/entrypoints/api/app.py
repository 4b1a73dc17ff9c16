"""The FastAPI app factory: routers, the one error mapper, the card-number guard, access logs, the
browser's security headers."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

from posrefund import __version__
from posrefund.config import RateLimits
from posrefund.domain.errors import DomainError
from posrefund.entrypoints import console
from posrefund.entrypoints.api import errors
from posrefund.entrypoints.api.access_log import AccessLog
from posrefund.entrypoints.api.context import AppContext
from posrefund.entrypoints.api.json_body import with_models
from posrefund.entrypoints.api.observability import Operations
from posrefund.entrypoints.api.pii_guard import PiiGuard
from posrefund.entrypoints.api.rate_limits import RateLimitGuard, quotas_of
from posrefund.entrypoints.api.routers import (
    abnormal_refunds,
    admin,
    auth,
    calendar,
    callbacks,
    deposits,
    disputes,
    documents,
    evidence,
    fees,
    holds,
    notify,
    ops,
    provider,
    reconciliation,
    reconciliation_files,
    reconciliation_mappings,
    refund_imports,
    refunds,
    reports,
    risk,
    sales,
    sales_imports,
    till,
    tracking,
    users,
)
from posrefund.entrypoints.api.schemas import RefundIn
from posrefund.entrypoints.api.security_headers import SecurityHeaders
from posrefund.ports import ConcurrentUpdate
from posrefund.service.deps import Deps
from posrefund.service.execution import Router

HAND_READ_MODELS = (RefundIn,)  # bodies read by json_body(), documented by openapi_body()


def create_app(
    deps: Deps,
    *,
    inline: bool,
    token_minutes: int = 30,
    router: Router | None = None,
    refresh_hours: int = 12,
    console_idle_minutes: int = 15,
    rate_limits: RateLimits | None = None,
    behind_https: bool = False,
    metrics_token: str = "",
) -> FastAPI:
    app = FastAPI(
        # No OpenTelemetry here: FastAPI's native hook otherwise looks up the global providers (an
        # os.environ read) on every request, ~4 % of a refund request's CPU.
        telemetry={"tracing": False, "metrics": False, "logs": False},
        title="posrefund",
        version=__version__,
        description="Refunds of POS payments: sales, refund cases, review, audit. "
        "Amounts are integer fen (`*_fen`) with a `currency`; errors are `{code, message, params}`.",
    )
    app.state.ctx = AppContext(deps, inline=inline, token_minutes=token_minutes, router=router)
    app.state.ctx.refresh_for = timedelta(hours=refresh_hours)
    app.state.ops = Operations(deps, metrics_token)
    _add_routes(app)

    app.add_middleware(PiiGuard)
    quotas = quotas_of(rate_limits or RateLimits())
    app.add_middleware(RateLimitGuard, quotas=quotas, tokens=app.state.ctx.tokens)
    app.add_middleware(AccessLog, latency=app.state.ops.latency)
    app.add_middleware(SecurityHeaders, behind_https=behind_https)  # outermost: every answer, errors too
    _document_hand_read_bodies(app)
    # the web console at /console
    console.mount(app, idle=timedelta(minutes=console_idle_minutes), secure_cookies=behind_https)
    return app


def _add_routes(app: FastAPI) -> None:
    """Every router, and the one mapping of errors to HTTP answers."""
    # Routes are matched in order: refunds first, as POST /v1/refunds is the one a counter calls all day.
    for api in (
        refunds.router,
        abnormal_refunds.router,
        auth.router,
        admin.router,
        sales.router,
        evidence.router,
        callbacks.router,
        calendar.router,
        reconciliation_mappings.router,
        reconciliation_files.router,
        refund_imports.router,
        sales_imports.router,
        reconciliation.router,
        notify.router,
        disputes.router,
        risk.router,
        deposits.router,
        reports.router,
        documents.router,
        tracking.router,
        users.router,
        ops.router,
        fees.router,
        provider.router,
        till.router,
        holds.router,
    ):
        app.include_router(api)
    app.add_exception_handler(DomainError, errors.on_domain_error)
    app.add_exception_handler(ConcurrentUpdate, errors.on_concurrent_update)
    app.add_exception_handler(DBAPIError, errors.on_lost_connection)
    app.add_exception_handler(RequestValidationError, errors.on_validation_error)
    app.add_exception_handler(StarletteHTTPException, errors.on_http_error)


def _document_hand_read_bodies(app: FastAPI) -> None:
    """/openapi.json also describes the bodies a route reads by hand (json_body), built once on first ask."""
    document = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = with_models(document(), *HAND_READ_MODELS)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
