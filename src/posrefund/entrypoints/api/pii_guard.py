"""Refuses any request that carries card data, before it reaches a route or a log: the one boundary.

A pure ASGI middleware. It searches the path, every query parameter, the request headers and the body of
any content type (JSON walked field by field, form and multipart fields and file names, anything else as
UTF-8 text) with the one detector of ``domain.pii``, and answers 422 ``pan_detected`` /
``track_data_detected`` / ``cvv_detected`` naming only the field, never its value. The body is then handed
on unchanged. It also caps the size of bodies.

Signed channel callbacks (``/v1/callbacks/…``) are not user input: their body and headers are the
channel's (ciphertext, certificate serials, signatures) and are only checked for their signature; the
callback routes keep the verified outcome, never the raw body.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qsl

from starlette.types import Receive, Scope, Send

from posrefund.domain.pii import find_card_data, find_track_data, may_hold_card_data
from posrefund.entrypoints.api.errors import error_body, refusal, status_of_code
from posrefund.entrypoints.api.middleware import BodyTooLarge, Middleware, read_body, replay
from posrefund.entrypoints.api.pii_forms import MalformedForm, form_fields, media_type
from posrefund.entrypoints.api.routers.callbacks import router as callbacks_router
from posrefund.i18n import pick_language

MAX_BODY = 12 * 1024 * 1024
SIGNED_CALLBACKS = callbacks_router.prefix + "/"
# Headers that carry a credential or a machine-made token: a bearer token, a cookie, a multipart boundary,
# the proxies' address lists. Random digits there must not lock anyone out, and none of them is stored or
# logged; they are still searched for track data, which no token alphabet (no ``^ = ; ?`` runs) spells.
TOKEN_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "cookie", "content-type", "x-forwarded-for", "forwarded", "x-real-ip"}
)
# A JSON number token with a fraction or exponent: it starts the document or follows ':', '[' or ','.
_FRACTION_OR_EXPONENT = re.compile(rb"(?:^|[:\[,])\s*-?\d+[.eE]")
NUL = "request.invalid_character"

# The requests meant to carry digits that are, or may pass for, a card number, and the one field that carries
# them: the card an abnormal WeChat Pay refund is sent to (API and console); a merchant's settlement account (an
# individual merchant often settles to a personal debit card) when it is onboarded or changed; the payer's Alipay
# payment code (付款码, 16–24 digits from 25–30) a freeze is asked with, whose digits may pass a card number's checks
# by chance. Those routes send the digits on, or keep only the last four and a keyed fingerprint, and store nothing
# more; a card number anywhere else in the request, and track data or a CVV even there, is refused.
CARD_DESTINATIONS: tuple[tuple[str, re.Pattern[str], str], ...] = (
    ("POST", re.compile(r"^(?:/v1/refunds|/console/cases)/[^/]+/abnormal-refund$"), "bank_account"),
    ("POST", re.compile(r"^(?:/v1/merchants|/console/provider/merchants)$"), "settlement_account_no"),
    ("PUT", re.compile(r"^/v1/merchants/[^/]+/settlement-account$"), "account_no"),
    ("POST", re.compile(r"^/v1/holds/alipay$"), "payer_code"),
)
_BARE_NUMBER = re.compile(r"^[0-9][0-9 \-]{6,38}[0-9]$")  # the card field holds digits (grouped), nothing else

# (error code, field): what a request is refused for (422, by the one mapping) and the field it was found in.
Problem = tuple[str, str]


class _NulFound(Exception):
    def __init__(self, field: str) -> None:
        self.field = field


def _text_problem(text: str, field: str, card_field: str = "") -> Problem | None:
    code = find_card_data(text)
    if code is None or (code == "pan_detected" and card_field and field == card_field and _BARE_NUMBER.match(text)):
        return None
    return (code, field)


def _first_problem(named: list[tuple[str, str]], card_field: str = "") -> Problem | None:
    """The first ``(field, text)`` holding card data. One search over all of them joined settles the usual
    case: a letter between two texts keeps a digit run, a label or a track from spanning them, so the joined
    text holds card data exactly when one of them does."""
    if find_card_data("\nx\n".join(text for _field, text in named)) is None:
        return None
    return next((hit for field, text in named if (hit := _text_problem(text, field, card_field))), None)


def _walk(value: Any, path: str, card_field: str = "") -> Problem | None:
    """The first string (or key, or number) holding card data; raises on a NUL character (no database
    stores it). ``card_field``: the one top-level string field that may hold a card number."""
    if isinstance(value, str):
        if "\x00" in value:
            raise _NulFound(path)
        return _text_problem(value, path, card_field)
    if isinstance(value, dict):
        for k, v in value.items():
            at = f"{path}.{k}" if path else str(k)
            hit = _walk(str(k), at) or _walk(v, at, card_field if isinstance(v, str) else "")
            if hit:
                return hit
    if isinstance(value, list):
        for i, v in enumerate(value):
            hit = _walk(v, f"{path}[{i}]")
            if hit:
                return hit
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _text_problem(str(value), path)
    return None


def _plain_and_digit_free(raw: bytes) -> bool:
    """True when walking the parsed JSON cannot find anything: no backslash escape (``\\u0034`` could spell
    a digit, ``\\u0000`` a NUL), no NUL byte, and nothing that could be card data in the whole text. One
    regex pass over the text instead of parsing and walking every string of most requests. A number with a
    fraction or exponent (``4111111111.111111e6``) is parsed and walked too: its value may print as a card
    number."""
    if b"\\" in raw or b"\x00" in raw or _FRACTION_OR_EXPONENT.search(raw):
        return False
    return not may_hold_card_data(raw.decode("utf-8", "replace"))


def _json_problem(raw: bytes, card_field: str = "") -> Problem | None:
    if _plain_and_digit_free(raw):
        return None
    try:
        doc = json.loads(raw)
    except (ValueError, RecursionError):
        return _text_problem(raw.decode("utf-8", "replace"), "body")  # the route refuses it; still never stored
    try:
        hit = _walk(doc, "", card_field)
    except _NulFound as nul:
        return NUL, nul.field
    return None if hit is None else (hit[0], hit[1] or "body")


def _form_problem(content_type: str, raw: bytes, card_field: str = "") -> Problem | None:
    """A form field (or a file's name, or a part's header) holding card data or a NUL; None when clean."""
    try:
        fields = list(form_fields(content_type, raw) or ())
    except MalformedForm:
        return None  # the route's own parser answers a broken form, and reads nothing from it
    nul = next((name for name, value in fields if "\x00" in value or "\x00" in name), None)
    if nul is not None:
        return NUL, nul
    named = [pair for name, value in fields for pair in ((name, name), (name, value))]
    return _first_problem(named, card_field if [n for n, _v in fields].count(card_field) == 1 else "")


def _body_problem(content_type: str, raw: bytes, card_field: str = "") -> Problem | None:
    """Card data or a NUL in the body, whatever its content type says (matched case-insensitively): JSON
    walked field by field, forms field by field, anything else searched as UTF-8 text."""
    if not raw:
        return None
    kind = media_type(content_type)
    if kind == "application/json" or kind.endswith("+json"):
        return _json_problem(raw, card_field)
    if kind in ("application/x-www-form-urlencoded", "multipart/form-data"):
        return _form_problem(content_type, raw, card_field)
    return _text_problem(raw.decode("utf-8", "replace"), "body")


def _header_texts(headers: list[tuple[bytes, bytes]]) -> list[tuple[str, str]]:
    """(name, value) of every header, the value as the server decodes it (latin-1) and, when not ASCII, also
    as UTF-8: either may be what a route keeps."""
    out = []
    for key, value in headers:
        name = key.decode("latin-1").lower()
        out.append((name, value.decode("latin-1")))
        if not value.isascii():
            out.append((name, value.decode("utf-8", "replace")))
    return out


def _header_problem(headers: list[tuple[bytes, bytes]]) -> Problem | None:
    """Card data in a request header (``Idempotency-Key``, ``X-Request-Id``, ``User-Agent``, …); track data
    in any header, the token-carrying ones included."""
    texts = _header_texts(headers)
    tokens = [(f"headers.{name}", text) for name, text in texts if name in TOKEN_HEADERS]
    if any(find_track_data(text) for _field, text in tokens):
        return "track_data_detected", next(field for field, text in tokens if find_track_data(text))
    return _first_problem([(f"headers.{name}", text) for name, text in texts if name not in TOKEN_HEADERS])


def _url_problem(scope: Scope, query: str) -> Problem | None:
    """Card data in the path or a query parameter (named by its key), or a NUL anywhere in the URL."""
    path = scope.get("path", "")
    if "\x00" in path or "%00" in query or "%00" in scope.get("raw_path", b"").decode("latin-1"):
        return NUL, "url"
    params = parse_qsl(query, keep_blank_values=True) if query else []
    return _first_problem([("path", path), *(pair for k, v in params for pair in ((k, k), (k, v)))])


class PiiGuard(Middleware):
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        lang = pick_language(headers.get("accept-language"))
        path = scope.get("path", "")
        signed = path.startswith(SIGNED_CALLBACKS)
        problem = _url_problem(scope, scope.get("query_string", b"").decode("latin-1"))
        if problem is None and not signed:
            problem = _header_problem(scope["headers"])
        if problem is not None:
            await _refuse(scope, receive, send, lang, problem)
            return
        if headers.get("content-length", "0") == "0" and "transfer-encoding" not in headers:
            await self.app(scope, receive, send)  # no body is sent without a length or chunks
            return
        try:
            raw = await read_body(receive, MAX_BODY, headers.get("content-length"))
        except BodyTooLarge:
            too_large = error_body("request.too_large", lang)
            await refusal(path, status_of_code("request.too_large"), too_large)(scope, receive, send)
            return
        if raw is None:
            return
        card_field = next(
            (
                field
                for method, route, field in CARD_DESTINATIONS
                if scope.get("method") == method and route.match(path)
            ),
            "",
        )
        problem = None if signed else _body_problem(headers.get("content-type", ""), raw, card_field)
        if problem is not None:
            await _refuse(scope, receive, send, lang, problem)
            return
        await self.app(scope, replay(raw, receive), send)


async def _refuse(scope: Scope, receive: Receive, send: Send, lang: str, problem: Problem) -> None:
    code, field = problem
    await refusal(scope.get("path", ""), status_of_code(code), error_body(code, lang, {"field": field}))(
        scope, receive, send
    )
