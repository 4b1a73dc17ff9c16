"""The console's session: a signed cookie (HttpOnly, SameSite=Strict) with a CSRF token and an idle limit.

The cookie holds who signed in and when they were last seen, signed with the app's secret (itsdangerous);
nothing secret is in it. It is re-issued on every request so that the idle clock restarts, and refused
once the service's clock says the operator has been away longer than the idle limit (``IDLE`` unless the
settings say otherwise: ``POSREFUND_CONSOLE_IDLE_MINUTES``). It also carries the user's token generation
(``gen``): every request checks it against the user's current one (web.py), so deactivating a user, changing
their role or password, or signing them out everywhere ends their console session too.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer
from starlette.requests import Request
from starlette.responses import Response

from posrefund.domain.roles import Actor, Role

COOKIE = "prc_session"
LANG_COOKIE = "prc_lang"
IDLE = timedelta(minutes=15)
LONGEST = timedelta(hours=12)  # a session ends after a shift even when used all the time
_SALT = "posrefund.console.session.v1"


@dataclass(frozen=True)
class Session:
    csrf: str
    seen: float  # POSIX seconds, by the service's clock
    uid: str = ""
    role: str = ""
    mid: str = ""
    name: str = ""
    started: float = 0.0
    gen: int = 0
    pwc: bool = False  # a temporary password must be changed before anything else
    pid: str = ""

    @property
    def signed_in(self) -> bool:
        return bool(self.uid)

    def actor(self) -> Actor:
        return Actor(
            id=self.uid, role=Role(self.role), merchant_id=self.mid or None, name=self.name, provider_id=self.pid
        )

    def csrf_ok(self, token: str | None) -> bool:
        return bool(token) and hmac.compare_digest(self.csrf.encode(), str(token).encode())


def anonymous(now: datetime) -> Session:
    return Session(csrf=secrets.token_urlsafe(24), seen=now.timestamp())


def signed_in(actor: Actor, now: datetime, generation: int = 0, must_change_password: bool = False) -> Session:
    """A fresh session (and a fresh CSRF token) at every sign-in, so no earlier token survives it."""
    return Session(
        csrf=secrets.token_urlsafe(24),
        seen=now.timestamp(),
        uid=actor.id,
        role=actor.role.value,
        mid=actor.merchant_id or "",
        name=actor.name,
        started=now.timestamp(),
        gen=generation,
        pwc=must_change_password,
        pid=actor.provider_id,
    )


class Sessions:
    def __init__(self, secret_key: str, idle: timedelta = IDLE, *, always_secure: bool = False) -> None:
        self._s = URLSafeSerializer(secret_key, salt=_SALT)
        self.idle = idle
        self._always_secure = always_secure

    def secure(self, request: Request) -> bool:
        """Whether a cookie may travel only over HTTPS: the request came over HTTPS (uvicorn takes
        ``X-Forwarded-Proto`` only from the proxies in ``FORWARDED_ALLOW_IPS``), or the app is configured as
        served behind an HTTPS proxy."""
        return self._always_secure or request.url.scheme == "https"

    def read(self, request: Request, now: datetime) -> tuple[Session, bool]:
        """The request's session and whether a signed-in session just ran out (idle or too long)."""
        raw = request.cookies.get(COOKIE)
        if not raw:
            return anonymous(now), False
        try:
            data: Any = self._s.loads(raw)
            session = Session(**data)
            if session.role:
                Role(session.role)  # a role that no longer exists ends the session
        except (BadSignature, TypeError, ValueError):
            return anonymous(now), False
        at = now.timestamp()
        if session.signed_in and (
            at - session.seen > self.idle.total_seconds() or at - session.started > LONGEST.total_seconds()
        ):
            return anonymous(now), True
        return replace(session, seen=max(session.seen, at)), False

    def write(self, request: Request, response: Response, session: Session) -> None:
        response.set_cookie(
            COOKIE,
            self._s.dumps(asdict(session)),
            httponly=True,
            samesite="strict",
            secure=self.secure(request),
            path="/console",
        )
