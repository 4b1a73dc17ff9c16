"""Bearer tokens of signed-in operators: issued at sign-in, checked on every request.

A token is an HS256 JWT signed with the service's secret key, valid for at most ``MAX_MINUTES``; a refresh
token (service/sessions.py) buys the next one. Checking one costs a signature verification; a counter sends
the same token all day, so verified tokens are kept (up to 10,000, oldest dropped first) until they expire on
the service's clock.

Every token carries its user's token generation (``gen``); a request is refused with ``auth.token_revoked``
once the user's generation has moved on (signed out everywhere, deactivated, a new role or password). The
generation is read from the database at most once per user every ``GENERATION_TTL`` seconds (``Generations``):
a change made through this process is seen at once (it forgets the user), one made by another process within
those few seconds."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt

from posrefund.domain.errors import Forbidden, Unauthorized
from posrefund.domain.roles import Actor, Role
from posrefund.service.deps import Deps

ALGORITHM = "HS256"
MAX_MINUTES = 30  # an access token is short-lived: a stolen one is worth half an hour at most
GENERATION_TTL = 5.0  # seconds a user's generation is trusted without asking the database again
_MAX_ENTRIES = 10_000


@dataclass(frozen=True, slots=True)
class Bearer:
    """A verified token: who, at which generation, and whether a temporary password must be changed first."""

    actor: Actor
    generation: int
    must_change_password: bool
    expires: float


class Generations:
    """User id → (token generation, active), each kept ``GENERATION_TTL`` seconds of real time, at most
    10,000 users (oldest dropped first)."""

    def __init__(self, ttl: float = GENERATION_TTL) -> None:
        self.ttl = ttl
        self._seen: OrderedDict[str, tuple[tuple[int, bool] | None, float]] = OrderedDict()

    def get(self, user_id: str) -> tuple[tuple[int, bool] | None, bool]:
        """The cached state and whether there was one still fresh."""
        hit = self._seen.get(user_id)
        if hit is None or hit[1] <= time.monotonic():
            return None, False
        return hit[0], True

    def put(self, user_id: str, state: tuple[int, bool] | None) -> None:
        self._seen[user_id] = (state, time.monotonic() + self.ttl)
        self._seen.move_to_end(user_id)
        if len(self._seen) > _MAX_ENTRIES:
            self._seen.popitem(last=False)

    def forget(self, user_id: str) -> None:
        self._seen.pop(user_id, None)


class Tokens:
    def __init__(self, deps: Deps, *, minutes: int) -> None:
        self.deps = deps
        self.minutes = min(minutes, MAX_MINUTES)
        self._cache: OrderedDict[str, Bearer] = OrderedDict()
        self.generations = Generations()

    def issue(self, actor: Actor, generation: int = 0, must_change_password: bool = False) -> tuple[str, datetime]:
        now = self.deps.clock.now()
        exp = now + timedelta(minutes=self.minutes)
        claims = {
            "sub": actor.id,
            "mid": actor.merchant_id,
            "pid": actor.provider_id,
            "role": actor.role.value,
            "name": actor.name,
            "gen": generation,
            "pwc": must_change_password,
            "iat": int(now.timestamp()),
            "exp": int(exp.timestamp()),
        }
        return jwt.encode(claims, self.deps.secret_key, algorithm=ALGORITHM), exp

    def verify(self, token: str) -> Bearer:
        """The token's bearer if its signature holds and it has not expired; nothing asked of the database."""
        now = self.deps.clock.now().timestamp()  # the service's clock decides expiry, as it decided issue
        hit = self._cache.get(token)
        if hit is not None and hit.expires > now:
            return hit
        try:
            claims = jwt.decode(
                token,
                self.deps.secret_key,
                algorithms=[ALGORITHM],
                options={"require": ["exp", "sub", "role", "gen"], "verify_exp": False, "verify_iat": False},
            )
            if float(claims["exp"]) <= now:
                raise Unauthorized("auth.invalid_token")
            bearer = Bearer(
                Actor(
                    id=str(claims["sub"]),
                    role=Role(claims["role"]),
                    merchant_id=claims.get("mid"),
                    name=str(claims.get("name", "")),
                    provider_id=str(claims.get("pid") or ""),
                ),
                int(claims["gen"]),
                bool(claims.get("pwc", False)),
                float(claims["exp"]),
            )
        except (jwt.PyJWTError, ValueError, KeyError, TypeError):
            raise Unauthorized("auth.invalid_token") from None
        self._cache[token] = bearer
        if len(self._cache) > _MAX_ENTRIES:
            self._cache.popitem(last=False)
        return bearer

    async def current(
        self,
        token: str,
        state_of: Callable[[str], Awaitable[tuple[int, bool] | None]],
        *,
        pending_password: bool = False,
    ) -> Actor:
        """The actor of a live token: verified, of the user's current generation, and — unless the route is
        the way out of a temporary password (``pending_password``) — not waiting for a password change."""
        bearer = self.verify(token)
        state, fresh = self.generations.get(bearer.actor.id)
        if not fresh:
            state = await state_of(bearer.actor.id)
            self.generations.put(bearer.actor.id, state)
        if state is None or not state[1] or state[0] != bearer.generation:
            raise Unauthorized("auth.token_revoked")
        if bearer.must_change_password and not pending_password:
            raise Forbidden("auth.password_change_required")
        return bearer.actor
