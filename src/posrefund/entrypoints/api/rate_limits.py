"""The one guard on how fast anyone may ask, in front of every route (API, console, tracking pages).

Which limits a request counts against is decided here and only here:

- sign-in (``POST /v1/auth/token``, ``POST /console/login``): per source address and per account named in
  the body, plus the progressive delay per source address (``Quotas.sign_in_*``): a run of failures from
  one address slows that address down without locking the real user, who signs in from elsewhere;
- the API (``/v1/…``) with a bearer: per terminal API key, or per signed-in user;
- the customer's tracking pages (``/t/{token}``): per link.

A refusal is ``429`` with ``Retry-After`` and the usual error body (``request.rate_limited``, zh / en).
"""

from __future__ import annotations

import json
import math
from typing import Any
from urllib.parse import parse_qs

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from posrefund.adapters.rate_limit import Quotas
from posrefund.config import RateLimits
from posrefund.domain.errors import DomainError
from posrefund.entrypoints.api.errors import error_body, refusal, status_of_code
from posrefund.entrypoints.api.middleware import BodyTooLarge, read_body, replay
from posrefund.entrypoints.api.tokens import Tokens
from posrefund.i18n import pick_language

SIGN_IN_PATHS = frozenset({"/v1/auth/token", "/console/login"})
# What a sign-in answers when it succeeds: the API's token, the console's redirect to its home page.
SIGNED_IN_STATUSES = frozenset({200, 303})
_MAX_SIGN_IN_BODY = 16 * 1024


def quotas_of(limits: RateLimits) -> Quotas:
    named = {
        "signin_per_ip": limits.signin_per_ip,
        "signin_per_account": limits.signin_per_account,
        "api_per_key": limits.api_per_key,
        "api_per_user": limits.api_per_user,
        "tracking_per_token": limits.tracking_per_token,
    }
    return Quotas(named, storage=limits.storage, free=limits.signin_free_attempts, cap=limits.signin_delay_cap_seconds)


class RateLimitGuard:
    def __init__(self, app: ASGIApp, quotas: Quotas, tokens: Tokens) -> None:
        self.app = app
        self.quotas = quotas
        self.tokens = tokens

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["method"] == "POST" and scope["path"] in SIGN_IN_PATHS:
            await self._sign_in(scope, receive, send)
            return
        wait = self.quotas.take(self._checks(scope))
        if wait:
            await refuse(scope, receive, send, wait)
            return
        await self.app(scope, receive, send)

    def _checks(self, scope: Scope) -> list[tuple[str, str]]:
        path: str = scope["path"]
        if path.startswith("/t/"):
            return [("tracking_per_token", path.split("/")[2])]
        if not path.startswith("/v1/"):
            return []
        scheme, _, token = _header(scope, b"authorization").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return []
        if token.startswith("key_"):
            return [("api_per_key", token.partition(".")[0])]
        try:
            return [("api_per_user", self.tokens.verify(token).actor.id)]
        except DomainError:  # a bad token: the route answers 401
            return []

    async def _sign_in(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            body = await read_body(receive, _MAX_SIGN_IN_BODY)
        except BodyTooLarge:
            too_large = error_body("request.too_large", _lang(scope))
            await refusal(scope["path"], status_of_code("request.too_large"), too_large)(scope, receive, send)
            return
        if body is None:
            return  # the client went away before its sign-in arrived: nothing to count, no one to answer
        source = _source(scope)
        # From here to the attempt's count nothing awaits: concurrent attempts cannot all pass the check.
        checks = [("signin_per_ip", source)]
        account = _username_of(scope, body)
        if account:
            checks.append(("signin_per_account", account))
        wait = self.quotas.sign_in_wait(source) or self.quotas.take(checks)
        if wait:
            await refuse(scope, receive, send, wait)
            return
        self.quotas.sign_in_attempt(source)
        statuses: list[int] = []

        async def noting_status(message: Message) -> None:
            if message["type"] == "http.response.start":
                statuses.append(int(message["status"]))
            await send(message)

        await self.app(scope, replay(body, receive), noting_status)
        if statuses and statuses[0] in SIGNED_IN_STATUSES:
            self.quotas.sign_in_succeeded(source)


async def refuse(scope: Scope, receive: Receive, send: Send, wait: float) -> None:
    retry_after = max(1, math.ceil(wait))
    body = error_body("request.rate_limited", _lang(scope), {"retry_after": retry_after})
    response = refusal(scope["path"], 429, body, {"Retry-After": str(retry_after)})
    await response(scope, receive, send)


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value).decode("latin-1")
    return ""


def _lang(scope: Scope) -> str:
    return pick_language(_header(scope, b"accept-language") or None)


def _source(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


def _username_of(scope: Scope, body: bytes) -> str:
    """The account a sign-in names, from the API's JSON or the console's form; "" when there is none."""
    kind = _header(scope, b"content-type").partition(";")[0].strip().lower()
    value: Any = None
    try:
        if kind == "application/json":
            document = json.loads(body)
            value = document.get("username") if isinstance(document, dict) else None
        elif kind == "application/x-www-form-urlencoded":
            value = next(iter(parse_qs(body.decode("utf-8", "replace")).get("username", [])), None)
    except ValueError:
        return ""
    return value.strip()[:64] if isinstance(value, str) else ""
