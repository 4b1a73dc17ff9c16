"""Access log and last-resort error answer, as plain ASGI (no per-request task overhead).

Only the method, the path, the status and the time are logged: query strings and
bodies may carry personal data and never reach a log.
"""

from __future__ import annotations

import json
import time

import structlog
from starlette.types import Message, Receive, Scope, Send

from posrefund.domain.pii import redact_card_numbers
from posrefund.entrypoints.api.errors import error_body
from posrefund.entrypoints.api.middleware import Middleware
from posrefund.i18n import pick_language

log = structlog.get_logger("posrefund.http")


class AccessLog(Middleware):
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 0

        async def watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception:
            log.exception("request.failed", method=scope["method"], path=redact_card_numbers(scope["path"]))
            if status == 0:
                lang = "zh"
                for k, v in scope["headers"]:
                    if k == b"accept-language":
                        lang = pick_language(v.decode("latin-1"))
                body = json.dumps(error_body("error.internal", lang), ensure_ascii=False).encode()
                status = 500
                await send(
                    {"type": "http.response.start", "status": 500, "headers": [(b"content-type", b"application/json")]}
                )
                await send({"type": "http.response.body", "body": body})
        log.info(
            "request",
            method=scope["method"],
            path=redact_card_numbers(scope["path"]),
            status=status,
            ms=round((time.perf_counter() - start) * 1000, 2),
        )
