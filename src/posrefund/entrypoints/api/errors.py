"""The one mapping from errors to HTTP answers: ``{"code", "message", "params"}`` in the caller's language."""

from __future__ import annotations

from html import escape
from typing import Any

from fastapi import Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

from posrefund.domain.errors import Conflict, DomainError, Forbidden, Invalid, NotFound, Unauthorized
from posrefund.entrypoints.wording import message
from posrefund.i18n import pick_language


class ErrorBody(BaseModel):
    """Every refusal of the API, whatever its status: a stable code to branch on, a message for people."""

    code: str = Field(description="stable, dotted: `refund.exceeds_refundable`, `auth.forbidden`, …")
    message: str = Field(description="Simplified Chinese, or English with `Accept-Language: en`")
    params: dict[str, Any] = Field(description="the values the message names (amounts in fen, the field, …)")


# What each refusal status means in this API; the OpenAPI description and docs/api.md say the same.
ERROR_MEANING: dict[int, str] = {
    400: "missing or malformed `Idempotency-Key`",
    401: "not signed in, or a bad signature (`auth.*`, `callback.rejected`)",
    403: "the role may not do this (`auth.forbidden`, `review.*`)",
    404: "no such object for this merchant (`*.not_found`)",
    409: "the object's state does not allow it (`state.invalid_transition`, `*.duplicate`, …)",
    413: "request body over 12 MiB (`request.too_large`)",
    422: "invalid input, a policy rule, or a full card number (`request.invalid`, `policy.*`, `pii.*`)",
    429: "too many attempts (`request.rate_limited`); `Retry-After` says when to try again",
    502: "a stored file failed its integrity check and is not served (`evidence.damaged`)",
    503: "every password check is busy (`server.busy`), or the evidence store cannot answer now "
    "(`evidence.store_unavailable`); `Retry-After` says when to try again",
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The ``responses=`` entries of an operation for the refusals it can answer, all with ``ErrorBody``."""
    return {status: {"model": ErrorBody, "description": ERROR_MEANING[status]} for status in sorted(statuses)}


STATUS: dict[type[DomainError], int] = {
    Invalid: 422,
    Unauthorized: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
}
# Codes whose HTTP status differs from their class's.
STATUS_BY_CODE: dict[str, int] = {
    "idempotency.key_required": 400,
    "idempotency.key_invalid": 400,
    "idempotency.in_progress": 409,
    "sale.duplicate": 409,
    "request.too_large": 413,
    "request.rate_limited": 429,
    "server.busy": 503,
    "evidence.store_unavailable": 503,
    "evidence.damaged": 502,
}


# The tracking page's refusals of a signed link, by reason: forged or changed, expired, no such case, a step
# the case is already past.
LINK_REFUSED_STATUS: dict[str, int] = {"invalid": 403, "expired": 410, "not_found": 404, "state": 409}


def status_of(err: DomainError) -> int:
    """The HTTP status of a refusal, for the API and the console alike."""
    if err.code in STATUS_BY_CODE:
        return STATUS_BY_CODE[err.code]
    for cls in type(err).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 422


def status_of_code(code: str) -> int:
    """The status of a refusal raised outside the routes (the card-number guard): its code's, else 422."""
    return STATUS_BY_CODE.get(code, 422)


def error_body(code: str, lang: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"code": code, "message": message(code, lang, params), "params": jsonable_encoder(params or {})}


def error_response(request: Request, code: str, status: int, params: dict[str, Any] | None = None) -> JSONResponse:
    lang = pick_language(request.headers.get("accept-language"))
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    if status in (429, 503):
        headers = {"Retry-After": str((params or {}).get("retry_after", 1))}
    return JSONResponse(error_body(code, lang, params), status_code=status, headers=headers)


async def on_domain_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    return error_response(request, exc.code, status_of(exc), exc.params)


async def on_lost_connection(request: Request, exc: Exception) -> JSONResponse:
    """The database connection was lost under the request (a restart, a failover): nothing it did was committed,
    the pool has been refreshed, and the same request with the same Idempotency-Key may simply be sent again.
    Any other database error stays a 500: it is a fault of ours."""
    assert isinstance(exc, DBAPIError)
    if not exc.connection_invalidated:
        raise exc
    return await on_domain_error(request, DomainError("server.busy", retry_after=1))


async def on_concurrent_update(request: Request, exc: Exception) -> JSONResponse:
    return error_response(request, "refund.concurrent_update", 409)


async def on_validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"loc": [str(p) for p in e.get("loc", ())], "type": e.get("type", ""), "msg": e.get("msg", "")}
        for e in exc.errors()
    ]
    detail = "; ".join(".".join(e["loc"][1:] or e["loc"]) + ": " + e["type"] for e in errors)[:500]
    return error_response(request, "request.invalid", 422, {"detail": detail, "errors": errors})


async def on_http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = {404: "request.not_found", 405: "request.method_not_allowed", 413: "request.too_large"}.get(
        exc.status_code, "error.unknown"
    )
    return error_response(request, code, exc.status_code)


_REFUSAL_PAGE = (
    '<!doctype html><html lang="zh-CN"><meta charset="utf-8"><meta name="viewport" content="width=device-width">'
    '<title>{status}</title><p role="alert" data-code="{code}">{message}</p>'
    '<p><a href="{back}">返回 / Back</a></p></html>'
)


def for_a_person(path: str) -> bool:
    """Answers to the console and the customer's tracking pages are read in a browser, not by a program."""
    return path.startswith(("/console/", "/t/"))


def refusal(
    path: str, status: int, body: dict[str, Any], headers: dict[str, str] | None = None
) -> HTMLResponse | JSONResponse:
    """A refusal made before any route ran (a middleware's): the error body as JSON for a program, or a
    short page in the person's language for a browser — with a plain link back, as the pages' security
    policy runs no inline script."""
    if not for_a_person(path):
        return JSONResponse(body, status_code=status, headers=headers)
    back = "/console/" if path.startswith("/console/") else path
    page = _REFUSAL_PAGE.format(
        status=status, code=escape(str(body["code"])), message=escape(str(body["message"])), back=escape(back)
    )
    return HTMLResponse(page, status_code=status, headers=headers)
