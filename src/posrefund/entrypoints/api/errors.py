"""The one mapping from errors to HTTP answers: ``{"code", "message", "params"}`` in the caller's language."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from posrefund.domain.errors import Conflict, DomainError, Forbidden, Invalid, NotFound, Unauthorized
from posrefund.i18n import message, pick_language

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
}


def status_of(err: DomainError) -> int:
    if err.code in STATUS_BY_CODE:
        return STATUS_BY_CODE[err.code]
    for cls in type(err).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 422


def error_body(code: str, lang: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"code": code, "message": message(code, lang, params), "params": jsonable_encoder(params or {})}


def error_response(request: Request, code: str, status: int, params: dict[str, Any] | None = None) -> JSONResponse:
    lang = pick_language(request.headers.get("accept-language"))
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(error_body(code, lang, params), status_code=status, headers=headers)


async def on_domain_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    return error_response(request, exc.code, status_of(exc), exc.params)


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
