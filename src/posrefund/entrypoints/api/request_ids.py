"""The request id every answer carries (``X-Request-ID``) and every log line of the request names.

A caller's own id is kept when it is sane (1–64 characters of letters, digits and ``._:-``, as UUIDs, ULIDs
and tracing ids are), so a counter's or a proxy's id follows the request through our logs; anything else
(too long, spaces, control or non-ASCII characters, which could forge log lines or carry personal data) is
replaced by a fresh one."""

from __future__ import annotations

import re
import uuid

from starlette.requests import Request
from starlette.types import Scope

HEADER = b"x-request-id"
_SANE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")


def accepted_or_new(offered: str | None) -> str:
    if offered is not None and _SANE.fullmatch(offered):
        return offered
    return uuid.uuid4().hex


def of_scope(scope: Scope) -> str:
    """The caller's ``X-Request-ID`` if sane, else a new one."""
    for key, value in scope["headers"]:
        if key == HEADER:
            return accepted_or_new(bytes(value).decode("latin-1"))
    return accepted_or_new(None)


def request_id_of(request: Request) -> str:
    """The id the access log gave this request ("" outside it, as in a test that builds no middleware)."""
    return str(request.scope.get("state", {}).get("request_id", ""))
