"""What the API's own middlewares share: they are plain ASGI callables (no per-request task, as Starlette's
BaseHTTPMiddleware would start), each wrapping the next app."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive


class Middleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app


class BodyTooLarge(Exception):
    """The body is over the reader's cap, as the client declared it or as it was sent."""


async def read_body(receive: Receive, cap: int, declared: str | None = None) -> bytes | None:
    """A middleware that must see the body before the app: the whole body, or None when the client went
    away; ``BodyTooLarge`` past ``cap`` (the declared Content-Length is believed when it is over)."""
    if declared and declared.isdigit() and int(declared) > cap:
        raise BodyTooLarge
    chunks: list[bytes] = []
    size = 0
    more = True
    while more:
        msg = await receive()
        if msg["type"] == "http.disconnect":
            return None
        body = msg.get("body", b"")
        size += len(body)
        if size > cap:
            raise BodyTooLarge
        chunks.append(body)
        more = msg.get("more_body", False)
    return b"".join(chunks)


def replay(raw: bytes, receive: Receive) -> Receive:
    """Hands the body already read to the app, then anything after it (a disconnect) as it comes."""
    sent = False

    async def replaying() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": raw, "more_body": False}
        return await receive()

    return replaying
