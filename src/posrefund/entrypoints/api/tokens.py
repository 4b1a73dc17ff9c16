"""Bearer tokens of signed-in operators: issued at sign-in, checked on every request.

A token is an HS256 JWT signed with the service's secret key. Checking one costs a signature verification;
a counter sends the same token all day, so verified tokens are kept (up to 10,000, oldest dropped first)
until they expire on the service's clock."""

from __future__ import annotations

from collections import OrderedDict
from datetime import datetime, timedelta

import jwt

from posrefund.domain.errors import Unauthorized
from posrefund.domain.roles import Actor, Role
from posrefund.service.deps import Deps

ALGORITHM = "HS256"


class Tokens:
    def __init__(self, deps: Deps, *, minutes: int) -> None:
        self.deps = deps
        self.minutes = minutes
        self._cache: OrderedDict[str, tuple[Actor, float]] = OrderedDict()

    def issue(self, actor: Actor) -> tuple[str, datetime]:
        now = self.deps.clock.now()
        exp = now + timedelta(minutes=self.minutes)
        claims = {
            "sub": actor.id,
            "mid": actor.merchant_id,
            "role": actor.role.value,
            "name": actor.name,
            "iat": int(now.timestamp()),
            "exp": int(exp.timestamp()),
        }
        return jwt.encode(claims, self.deps.secret_key, algorithm=ALGORITHM), exp

    def actor_of(self, token: str) -> Actor:
        now = self.deps.clock.now().timestamp()  # the service's clock decides expiry, as it decided issue
        hit = self._cache.get(token)
        if hit is not None and hit[1] > now:
            return hit[0]
        try:
            claims = jwt.decode(
                token,
                self.deps.secret_key,
                algorithms=[ALGORITHM],
                options={"require": ["exp", "sub", "role"], "verify_exp": False, "verify_iat": False},
            )
            if float(claims["exp"]) <= now:
                raise Unauthorized("auth.invalid_token")
            actor = Actor(
                id=str(claims["sub"]),
                role=Role(claims["role"]),
                merchant_id=claims.get("mid"),
                name=str(claims.get("name", "")),
            )
        except (jwt.PyJWTError, ValueError, KeyError):
            raise Unauthorized("auth.invalid_token") from None
        self._cache[token] = (actor, float(claims["exp"]))
        if len(self._cache) > 10_000:
            self._cache.popitem(last=False)
        return actor
