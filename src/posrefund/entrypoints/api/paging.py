"""Paging a listing: ``limit`` and ``offset`` (``{items, total, limit, offset}`` back), or, for lists that grow
with a merchant's history, an opaque ``cursor`` (``next_cursor`` back) and a total only on ``count=true``."""

# No ``from __future__ import annotations``: the dependency's parameters name the ceilings of the closure,
# which FastAPI could not resolve from strings.
import base64
import hashlib
import hmac
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import Query

from posrefund.domain.errors import Invalid


@dataclass(frozen=True, slots=True)
class Paging:
    limit: int
    offset: int

    def page(self, items: list[Any], total: int) -> dict[str, Any]:
        return {"items": items, "total": total, "limit": self.limit, "offset": self.offset}


def paging(max_limit: int, max_offset: int) -> Callable[..., Paging]:
    """The dependency of a paged listing; each listing keeps its own ceilings."""

    def dependency(
        limit: Annotated[int, Query(ge=1, le=max_limit)] = 50,
        offset: Annotated[int, Query(ge=0, le=max_offset)] = 0,
    ) -> Paging:
        return Paging(limit, offset)

    return dependency


# Keyset paging: the page after a cursor is read off an index as cheaply as the first page, however deep it is
# (an offset makes the database walk and drop every row before it: 0.5 s at offset 250,000 on SQLite).
CURSOR_MAX = 300
_CURSOR_CONTEXT = b"posrefund list cursor v1"
Seal = Callable[[datetime, str], str]  # a row's (created_at, id) → its cursor


@dataclass(frozen=True, slots=True)
class Keyset:
    """``limit``, an opaque ``cursor`` from the page before (or a slow ``offset``) and whether to ``count``."""

    limit: int
    offset: int
    cursor: str | None
    count: bool

    def after(self, secret: str, merchant_id: str) -> tuple[datetime, str] | None:
        """The (created_at, id) the cursor names, if the server sealed it for this merchant: else 422."""
        if self.cursor is None:
            return None
        if self.offset:
            raise Invalid("request.cursor_with_offset")
        return open_cursor(secret, merchant_id, self.cursor)

    def page(
        self, items: Sequence[Any], total: int | None, key: Callable[[Any], tuple[datetime, str]], seal: Seal
    ) -> tuple[list[Any], dict[str, Any]]:
        """Of the ``limit + 1`` rows read, the page's and the answer's fields but ``items``: the one row more
        only tells that a next page exists, whose cursor is the last row shown."""
        shown = list(items[: self.limit])
        more = len(items) > self.limit
        cursor = seal(*key(shown[-1])) if more and shown else None
        return shown, {"total": total, "limit": self.limit, "offset": self.offset, "next_cursor": cursor}


def keyset(max_limit: int, max_offset: int) -> Callable[..., Keyset]:
    """The dependency of a listing paged by cursor (``offset`` still taken, for old clients)."""

    def dependency(
        limit: Annotated[int, Query(ge=1, le=max_limit)] = 50,
        cursor: Annotated[str | None, Query(min_length=1, max_length=CURSOR_MAX)] = None,
        offset: Annotated[int, Query(ge=0, le=max_offset, description="slow when deep: prefer `cursor`")] = 0,
        count: Annotated[bool, Query(description="also count every match (`total`); slow for a large list")] = False,
    ) -> Keyset:
        return Keyset(limit, offset, cursor, count)

    return dependency


def _mac(secret: str, merchant_id: str, body: str) -> str:
    key = hmac.new(secret.encode(), _CURSOR_CONTEXT, hashlib.sha256).digest()
    mac = hmac.new(key, f"{merchant_id}\n{body}".encode(), hashlib.sha256).digest()[:16]
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def seal_cursor(secret: str, merchant_id: str, created_at: datetime, row_id: str) -> str:
    """An opaque cursor for the row: its key, and a MAC binding it to this server and this merchant."""
    body = base64.urlsafe_b64encode(json.dumps([created_at.isoformat(), row_id]).encode()).decode().rstrip("=")
    return f"{body}.{_mac(secret, merchant_id, body)}"


def open_cursor(secret: str, merchant_id: str, cursor: str) -> tuple[datetime, str]:
    """The key a cursor carries; a cursor altered, made up or sealed for another merchant is refused."""
    body, _, mac = cursor.partition(".")
    if not hmac.compare_digest(mac.encode(), _mac(secret, merchant_id, body).encode()):
        raise Invalid("request.bad_cursor")
    try:
        stamp, row_id = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        at = datetime.fromisoformat(stamp)
    except (ValueError, TypeError) as exc:
        raise Invalid("request.bad_cursor") from exc
    if at.tzinfo is None or not isinstance(row_id, str):
        raise Invalid("request.bad_cursor")
    return at, row_id
