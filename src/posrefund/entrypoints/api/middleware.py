"""What the API's own middlewares share: they are plain ASGI callables (no per-request task, as Starlette's
BaseHTTPMiddleware would start), each wrapping the next app."""

from __future__ import annotations

from starlette.types import ASGIApp


class Middleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
