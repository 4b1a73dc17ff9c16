"""The request id every answer carries (``X-Request-ID``) and every log line of the request names.

A caller's own id is kept when it is sane (1–64 characters of letters, digits and ``._:-``, as UUIDs, ULIDs
and tracing ids are), so a counter's or a proxy's id follows the request through our logs; anything else
(too long, spaces, control or non-ASCII characters, which could forge log lines) is replaced by a fresh one,
and so is an id holding a card number, a mobile number or a resident ID number (the ``pii scan`` detector):
the id is logged and kept on the refund, where no personal data may go."""

from __future__ import annotations

import itertools
import os
import re

from starlette.requests import Request
from starlette.types import Scope

from posrefund.service.pii_scan import findings_in

HEADER = b"x-request-id"
_SANE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")
# A new id is this process's random prefix and a counter: 32 hex digits, unique across processes and restarts
# without a system call per request (uuid4 reads the kernel's random source each time: 3x the cost).
_PREFIX = os.urandom(8).hex()
_counter = itertools.count(1)


def accepted_or_new(offered: str | None) -> str:
    if offered is not None and _SANE.fullmatch(offered) and not findings_in(offered):
        return offered
    return f"{_PREFIX}{next(_counter):016x}"


def of_scope(scope: Scope) -> str:
    """The caller's ``X-Request-ID`` if sane, else a new one."""
    for key, value in scope["headers"]:
        if key == HEADER:
            return accepted_or_new(bytes(value).decode("latin-1"))
    return accepted_or_new(None)


def request_id_of(request: Request) -> str:
    """The id the access log gave this request ("" outside it, as in a test that builds no middleware)."""
    return str(request.scope.get("state", {}).get("request_id", ""))
