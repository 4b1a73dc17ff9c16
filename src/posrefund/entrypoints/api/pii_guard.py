"""Refuses any request that carries a full card number, before it reaches a route or a log.

A pure ASGI middleware: it reads the JSON body (and the query string), walks every
string, and answers 422 ``pii.full_card_number`` naming the field. The body is then
handed on unchanged. It also caps the size of bodies.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from posrefund.domain.pii import find_card_number
from posrefund.entrypoints.api.errors import error_body
from posrefund.i18n import pick_language

MAX_BODY = 12 * 1024 * 1024


class _NulFound(Exception):
    def __init__(self, field: str) -> None:
        self.field = field


def _walk(value: Any, path: str) -> str | None:
    """The path of the first string holding a card number; raises on a NUL character (no database stores it)."""
    if isinstance(value, str):
        if "\x00" in value:
            raise _NulFound(path)
        return path if find_card_number(value) else None
    if isinstance(value, dict):
        for k, v in value.items():
            hit = _walk(str(k), f"{path}.{k}" if path else str(k)) or _walk(v, f"{path}.{k}" if path else str(k))
            if hit:
                return hit
    if isinstance(value, list):
        for i, v in enumerate(value):
            hit = _walk(v, f"{path}[{i}]")
            if hit:
                return hit
    if isinstance(value, int | float) and not isinstance(value, bool):
        return path if find_card_number(str(value)) else None
    return None


class PiiGuard:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        lang = pick_language(headers.get("accept-language"))
        query = scope.get("query_string", b"").decode("latin-1")
        path = scope.get("path", "")
        if find_card_number(path):
            await self._refuse(send, lang, "path")
            return
        if "\x00" in path or "%00" in query or "%00" in scope.get("raw_path", b"").decode("latin-1"):
            await self._send(send, 422, error_body("request.invalid_character", lang, {"field": "url"}))
            return
        if query:
            for k, v in parse_qsl(query, keep_blank_values=True):
                if find_card_number(v) or find_card_number(k):
                    await self._refuse(send, lang, k)
                    return
        if scope["method"] not in ("POST", "PUT", "PATCH"):
            await self.app(scope, receive, send)
            return
        declared = headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > MAX_BODY:
            await self._send(send, 413, error_body("request.too_large", lang))
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            msg = await receive()
            if msg["type"] == "http.disconnect":
                return
            body = msg.get("body", b"")
            size += len(body)
            if size > MAX_BODY:
                await self._send(send, 413, error_body("request.too_large", lang))
                return
            chunks.append(body)
            more = msg.get("more_body", False)
        raw = b"".join(chunks)
        if "json" in headers.get("content-type", "") and raw:
            try:
                doc = json.loads(raw)
            except (ValueError, RecursionError):
                doc = None  # the route's own validation answers malformed JSON
            try:
                hit = _walk(doc, "") if doc is not None else None
            except _NulFound as nul:
                await self._send(send, 422, error_body("request.invalid_character", lang, {"field": nul.field}))
                return
            if hit is not None:
                await self._refuse(send, lang, hit or "body")
                return
        elif raw and not headers.get("content-type", "").startswith("multipart/"):
            text = raw.decode("utf-8", "replace")
            if find_card_number(text):
                await self._refuse(send, lang, "body")
                return
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": raw, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, send: Send, lang: str, field: str) -> None:
        await self._send(send, 422, error_body("pii.full_card_number", lang, {"field": field}))

    @staticmethod
    async def _send(send: Send, status: int, body: dict[str, Any]) -> None:
        payload = json.dumps(body, ensure_ascii=False).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": payload})
