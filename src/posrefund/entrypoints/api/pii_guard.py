"""Refuses any request that carries a full card number, before it reaches a route or a log.

A pure ASGI middleware: it reads the JSON body (and the query string), walks every
string, and answers 422 ``pii.full_card_number`` naming the field. The body is then
handed on unchanged. It also caps the size of bodies.
"""

from __future__ import annotations

import json
import re
from html import escape
from typing import Any
from urllib.parse import parse_qsl

from starlette.types import Message, Receive, Scope, Send

from posrefund.domain.pii import find_card_number, has_long_digit_run
from posrefund.entrypoints.api.errors import error_body, status_of_code
from posrefund.entrypoints.api.middleware import Middleware
from posrefund.entrypoints.api.pii_forms import MalformedForm, form_fields
from posrefund.i18n import pick_language

MAX_BODY = 12 * 1024 * 1024
# A JSON number token with a fraction or exponent: it starts the document or follows ':', '[' or ','.
_FRACTION_OR_EXPONENT = re.compile(rb"(?:^|[:\[,])\s*-?\d+[.eE]")
_HTML = (
    '<!doctype html><html lang="zh-CN"><meta charset="utf-8"><title>422</title>'
    '<p role="alert">{message}</p><p><a href="javascript:history.back()">返回 / Back</a></p></html>'
)


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


def _form_problem(content_type: str, raw: bytes) -> tuple[str, str] | None:
    """(error code, field) for a form field holding a card number or a NUL; None when the form is clean."""
    try:
        fields = form_fields(content_type, raw)
    except MalformedForm:
        return None  # the route's own parser answers a broken form
    for name, value in fields or ():
        if "\x00" in value or "\x00" in name:
            return "request.invalid_character", name
        if find_card_number(value) or find_card_number(name):
            return "pii.full_card_number", name
    return None


def _plain_and_digit_free(raw: bytes) -> bool:
    """True when walking the parsed JSON cannot find anything: no backslash escape (``\\u0034`` could spell
    a digit, ``\\u0000`` a NUL), no NUL byte, and no run of digits long enough to be a card number. One regex
    pass over the bytes instead of parsing and walking every string of most requests. A number with a
    fraction or exponent (``4111111111.111111e6``) is parsed and walked too: its value may print as a card
    number."""
    if b"\\" in raw or b"\x00" in raw or _FRACTION_OR_EXPONENT.search(raw):
        return False
    return not has_long_digit_run(raw.decode("utf-8", "replace"))


def _parsed(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        return None  # the route's own validation answers malformed JSON


# (error code, field): what a request is refused for (422, by the one mapping) and the field it was found in.
Problem = tuple[str, str]


class _TooLarge(Exception):
    pass


def _url_problem(scope: Scope, query: str) -> Problem | None:
    """A card number in the path or a query parameter, or a NUL anywhere in the URL."""
    path = scope.get("path", "")
    if find_card_number(path):
        return "pii.full_card_number", "path"
    if "\x00" in path or "%00" in query or "%00" in scope.get("raw_path", b"").decode("latin-1"):
        return "request.invalid_character", "url"
    for k, v in parse_qsl(query, keep_blank_values=True):
        if find_card_number(v) or find_card_number(k):
            return "pii.full_card_number", k
    return None


def _body_problem(content_type: str, raw: bytes) -> Problem | None:
    """A card number or a NUL in a JSON body (walked field by field), a plain body, or a form's fields."""
    if not raw:
        return None
    if "json" in content_type:
        doc = None if _plain_and_digit_free(raw) else _parsed(raw)
        try:
            hit = _walk(doc, "") if doc is not None else None
        except _NulFound as nul:
            return "request.invalid_character", nul.field
        if hit is not None:
            return "pii.full_card_number", hit or "body"
    elif not content_type.startswith("multipart/") and find_card_number(raw.decode("utf-8", "replace")):
        return "pii.full_card_number", "body"
    # HTML forms, field by field, decoded as the route will read them.
    return _form_problem(content_type, raw)


async def _read_body(receive: Receive, declared: str | None) -> bytes | None:
    """The whole body, or None when the client went away; ``_TooLarge`` past the cap, as declared or as sent."""
    if declared and declared.isdigit() and int(declared) > MAX_BODY:
        raise _TooLarge
    chunks: list[bytes] = []
    size = 0
    more = True
    while more:
        msg = await receive()
        if msg["type"] == "http.disconnect":
            return None
        body = msg.get("body", b"")
        size += len(body)
        if size > MAX_BODY:
            raise _TooLarge
        chunks.append(body)
        more = msg.get("more_body", False)
    return b"".join(chunks)


def _replay(raw: bytes, receive: Receive) -> Receive:
    """Hands the body already read to the app, then anything after it (a disconnect) as it comes."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": raw, "more_body": False}
        return await receive()

    return replay


class PiiGuard(Middleware):
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        lang = pick_language(headers.get("accept-language"))
        html = scope.get("path", "").startswith("/console/")  # a person reads the refusal in the browser
        problem = _url_problem(scope, scope.get("query_string", b"").decode("latin-1"))
        if problem is not None:
            await self._refuse(send, html, lang, problem)
            return
        if scope["method"] not in ("POST", "PUT", "PATCH"):
            await self.app(scope, receive, send)
            return
        try:
            raw = await _read_body(receive, headers.get("content-length"))
        except _TooLarge:
            await self._send(send, html, status_of_code("request.too_large"), error_body("request.too_large", lang))
            return
        if raw is None:
            return
        problem = _body_problem(headers.get("content-type", ""), raw)
        if problem is not None:
            await self._refuse(send, html, lang, problem)
            return
        await self.app(scope, _replay(raw, receive), send)

    async def _refuse(self, send: Send, html: bool, lang: str, problem: Problem) -> None:
        code, field = problem
        await self._send(send, html, status_of_code(code), error_body(code, lang, {"field": field}))

    @staticmethod
    async def _send(send: Send, html: bool, status: int, body: dict[str, Any]) -> None:
        payload = json.dumps(body, ensure_ascii=False).encode()
        ctype = b"application/json"
        if html:
            payload = _HTML.format(message=escape(str(body["message"]))).encode()
            ctype = b"text/html; charset=utf-8"
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", ctype), (b"content-length", str(len(payload)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": payload})
