"""What a signed-in session rests on: the user's token generation, and refresh tokens.

An access token lives minutes; a refresh token (``rft_<id>.<secret>``, only its hash kept) buys a new pair,
once: using it marks it used and hands out a new one. A refresh token used a second time means it was
copied — the user's generation is raised, which ends every session they hold, and the reuse is audited.
Raising the generation (sign out everywhere, deactivation, a new role or password) voids every access and
refresh token issued before."""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from posrefund.domain.errors import Unauthorized
from posrefund.domain.roles import Actor, Role
from posrefund.ports import UnitOfWork, UserRow
from posrefund.service.admin import hash_api_secret
from posrefund.service.deps import Deps
from posrefund.service.records import record

REFRESH_PREFIX = "rft_"


class RefreshReused(Unauthorized):
    """A refresh token came back after it was used: every session of ``user_id`` has just been ended (the
    caller forgets any cached generation of that user; the id is not shown to whoever sent the token)."""

    def __init__(self, user_id: str) -> None:
        super().__init__("auth.refresh_invalid")
        self.user_id = user_id


@dataclass(frozen=True, slots=True)
class Grant:
    """Who signed in, at which token generation, whether they must first change a temporary password, and
    (for the API) their refresh token."""

    actor: Actor
    generation: int
    must_change_password: bool
    refresh_token: str = ""
    refresh_expires_at: datetime | None = None


def actor_of_user(user: UserRow) -> Actor:
    return Actor(
        id=user["id"],
        role=Role(user["role"]),
        merchant_id=user["merchant_id"],
        name=user["display_name"],
        provider_id=user["provider_id"],
    )


def _issue_refresh(deps: Deps, uow: UnitOfWork, user: UserRow, refresh_for: timedelta) -> tuple[str, datetime]:
    now = deps.clock.now()
    refresh_id = REFRESH_PREFIX + deps.ids.new_id("r")
    secret = secrets.token_urlsafe(32)
    expires = now + refresh_for
    uow.users.add_refresh(
        {
            "id": refresh_id,
            "user_id": user["id"],
            "secret_hash": hash_api_secret(secret),
            "generation": int(user["token_generation"]),
            "created_at": now,
            "expires_at": expires,
            "used_at": None,
        }
    )
    return f"{refresh_id}.{secret}", expires


def grant(deps: Deps, signed_in: Actor, refresh_for: timedelta | None) -> Grant:
    """After a successful sign-in: the user's current generation and provider, and a refresh token when
    ``refresh_for`` is given (the console keeps its own session instead)."""
    with deps.uow() as uow:
        user = uow.users.get_user(signed_in.id)
        if user is None or not user["active"]:
            raise Unauthorized("auth.invalid_credentials")
        token, expires = ("", None) if refresh_for is None else _issue_refresh(deps, uow, user, refresh_for)
        uow.commit()
    actor = replace(actor_of_user(user), name=signed_in.name)
    return Grant(actor, int(user["token_generation"]), bool(user["must_change_password"]), token, expires)


def refresh(deps: Deps, token: str, refresh_for: timedelta) -> Grant:
    """A new access and refresh token for a live, unused refresh token of an active user."""
    refresh_id, _, secret = token.partition(".")
    if not refresh_id.startswith(REFRESH_PREFIX) or not secret or len(token) > 200:
        raise Unauthorized("auth.refresh_invalid")
    now = deps.clock.now()
    with deps.uow() as uow:
        row = uow.users.refresh(refresh_id)
        if row is None or not hmac.compare_digest(row["secret_hash"], hash_api_secret(secret)):
            raise Unauthorized("auth.refresh_invalid")
        user = uow.users.get_user(row["user_id"])
        if user is None or not user["active"] or row["expires_at"] <= now:
            raise Unauthorized("auth.refresh_invalid")
        if row["generation"] != user["token_generation"]:
            raise Unauthorized("auth.token_revoked")
        if not uow.users.use_refresh(refresh_id, now):
            # Used before: a copy is in someone else's hands. End every session of the user.
            uow.users.change_user(user["id"], bump=True)
            who = actor_of_user(user)
            record(uow, who, user["merchant_id"], "user.refresh_reused", now, user_id=user["id"], token_id=refresh_id)
            uow.commit()
            raise RefreshReused(user["id"])
        new_token, expires = _issue_refresh(deps, uow, user, refresh_for)
        uow.commit()
    return Grant(
        actor_of_user(user), int(user["token_generation"]), bool(user["must_change_password"]), new_token, expires
    )


def token_state(deps: Deps, user_id: str) -> tuple[int, bool] | None:
    """The user's token generation and whether they are active; None for no such user."""
    with deps.uow(readonly=True) as uow:
        return uow.users.token_state(user_id)
