"""Access log, request ids, request latency and the last-resort error answer, as plain ASGI (no per-request
task overhead).

Only the method, the path, the status, the time and the request id are logged: query strings and bodies may
carry personal data and never reach a log. The request id (``request_ids.py``) is bound to every log line
written while the request runs and echoed in the ``X-Request-ID`` header. The probes and the scrape
(``/healthz``, ``/readyz``, ``/metrics``) are logged only when they fail: a load balancer asks every few
seconds. The latency histogram is labelled with the route's template, never the raw path (no ids)."""

from __future__ import annotations

import json
import time

import structlog
from prometheus_client import Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from posrefund.domain.pii import redact_card_numbers
from posrefund.entrypoints.api import request_ids
from posrefund.entrypoints.api.errors import error_body
from posrefund.entrypoints.api.middleware import Middleware
from posrefund.i18n import pick_language

log = structlog.get_logger("posrefund.http")
QUIET_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
UNROUTED = "unrouted"  # answered before any route matched: an unknown path, a rate limit, the card-number guard


class AccessLog(Middleware):
    def __init__(self, app: ASGIApp, latency: Histogram | None = None) -> None:
        super().__init__(app)
        self.latency = latency

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 0
        request_id = request_ids.of_scope(scope)
        scope.setdefault("state", {})["request_id"] = request_id
        echoed = (b"x-request-id", request_id.encode("ascii"))

        async def watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), echoed]
            await send(message)

        bound = structlog.contextvars.bind_contextvars(request_id=request_id)  # (not the generator form: 4x dearer)
        try:
            await self.app(scope, receive, watch)
        except Exception:
            log.exception("request.failed", method=scope["method"], path=redact_card_numbers(scope["path"]))
            if status == 0:
                status = 500
                await _internal_error(scope, send, echoed)
        finally:
            self._record(scope, status, time.perf_counter() - start)  # still under the request id
            structlog.contextvars.reset_contextvars(**bound)

    def _record(self, scope: Scope, status: int, seconds: float) -> None:
        if self.latency is not None:
            answered = f"{status // 100}xx" if status else "none"  # none: the client left before any answer
            self.latency.labels(scope["method"], route_of(scope), answered).observe(seconds)
        if scope["path"] in QUIET_PATHS and status < 400:
            return
        log.info(
            "request",
            method=scope["method"],
            path=redact_card_numbers(scope["path"]),
            status=status,
            ms=round(seconds * 1000, 2),
        )


def route_of(scope: Scope) -> str:
    """The template of the route that answered (``/v1/refunds/{refund_id}``), or ``unrouted``."""
    route = scope.get("route")
    template = getattr(route, "path_format", None) or getattr(route, "path", None)
    return template if isinstance(template, str) and template else UNROUTED


async def _internal_error(scope: Scope, send: Send, echoed: tuple[bytes, bytes]) -> None:
    lang = "zh"
    for k, v in scope["headers"]:
        if k == b"accept-language":
            lang = pick_language(v.decode("latin-1"))
    body = json.dumps(error_body("error.internal", lang), ensure_ascii=False).encode()
    headers = [(b"content-type", b"application/json"), echoed]
    await send({"type": "http.response.start", "status": 500, "headers": headers})
    await send({"type": "http.response.body", "body": body})
