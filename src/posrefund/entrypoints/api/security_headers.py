"""The browser's rules for every answer of the app: the console's pages, the customer's tracking page, the
JSON API, static files and error answers alike, set in one place instead of route by route.

- ``Content-Security-Policy``: scripts and styles only from our own files (no inline ``<script>``, no
  ``onclick=``, no ``style=``), so text that slips past autoescape still cannot run; no plug-ins, no
  ``<base>`` rewrite, forms post only to us, and no page may be framed (``frame-ancestors 'none'``, with
  ``X-Frame-Options: DENY`` for older browsers): a framed console invites click-jacking of an approval.
- ``Referrer-Policy: no-referrer``: a tracking link carries its token in the URL, and no page of ours
  should hand its address to another site.
- ``X-Content-Type-Options: nosniff``: an uploaded receipt or a CSV is never read as a script or a page.
- ``Permissions-Policy``: no camera, microphone, location or payment API for any page.
- ``Strict-Transport-Security`` when the request came over HTTPS (or the app is configured as behind an
  HTTPS proxy).

A route that sets one of these itself (an evidence file's stricter ``default-src 'none'``) keeps its own.
FastAPI's generated ``/docs`` and ``/redoc`` load Swagger UI / ReDoc from their CDN with an inline script;
they get a policy that allows exactly that and nothing else (they show no data of ours).
"""

from __future__ import annotations

import base64
import hashlib

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from posrefund.entrypoints.api.middleware import Middleware

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
DOCS_CDN = "https://cdn.jsdelivr.net"
DOCS_CSP = (
    f"default-src 'self'; script-src 'self' 'unsafe-inline' {DOCS_CDN}; style-src 'self' 'unsafe-inline' "
    f"{DOCS_CDN} https://fonts.googleapis.com; font-src https://fonts.gstatic.com; img-src 'self' data: "
    "https://fastapi.tiangolo.com; worker-src blob:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)
DOCS_PATHS = frozenset({"/docs", "/redoc", "/docs/oauth2-redirect"})
HSTS = "max-age=31536000"


def styled_document_policy(css: str) -> str:
    """The policy of a stand-alone printable page (a form to print and sign): nothing may load or run, and the
    one inline stylesheet is allowed by its hash, so a changed or injected style is not applied."""
    digest = base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()
    return (
        f"default-src 'none'; style-src 'sha256-{digest}'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )


HEADERS: tuple[tuple[str, str], ...] = (
    ("X-Frame-Options", "DENY"),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=(), usb=()"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
)


class SecurityHeaders(Middleware):
    def __init__(self, app: ASGIApp, behind_https: bool = False) -> None:
        super().__init__(app)
        self.behind_https = behind_https

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        policy = DOCS_CSP if scope["path"] in DOCS_PATHS else CSP
        https = self.behind_https or scope.get("scheme") == "https"

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("Content-Security-Policy", policy)
                for name, value in HEADERS:
                    headers.setdefault(name, value)
                if https:
                    headers.setdefault("Strict-Transport-Security", HSTS)
            await send(message)

        await self.app(scope, receive, with_headers)
