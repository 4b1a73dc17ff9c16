"""Sign-in: username and password for a short-lived bearer token and a refresh token; the caller's own
account (change the password, sign out everywhere); an admin lifts a lock-out."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.responses import Response

from posrefund.entrypoints.api.context import AccountActor, BearerTokens, Ctx, CurrentActor
from posrefund.entrypoints.api.responses import SIGNED_IN, WITH_BODY, Me, Token, User, answers
from posrefund.entrypoints.api.schemas import TokenIn
from posrefund.entrypoints.api.schemas_access import OwnPasswordIn, RefreshIn
from posrefund.entrypoints.api.signin import sign_in
from posrefund.entrypoints.api.tokens import Tokens
from posrefund.entrypoints.api.views import plain
from posrefund.service import accounts, sessions
from posrefund.service import auth as auth_service
from posrefund.service.sessions import Grant

router = APIRouter(prefix="/v1/auth", tags=["auth"])


def _token_answer(grant: Grant, tokens: Tokens) -> dict[str, Any]:
    tok, exp = tokens.issue(grant.actor, grant.generation, grant.must_change_password)
    assert grant.refresh_expires_at is not None
    return {
        "access_token": tok,
        "token_type": "bearer",
        "expires_at": exp.isoformat(),
        "refresh_token": grant.refresh_token,
        "refresh_expires_at": grant.refresh_expires_at.isoformat(),
        "must_change_password": grant.must_change_password,
        "user": {
            "id": grant.actor.id,
            "role": grant.actor.role.value,
            "merchant_id": grant.actor.merchant_id,
            "display_name": grant.actor.name,
        },
    }


@router.post("/token", summary="Sign in for a bearer token", **answers(Token, 401, 422, 429, 503, *WITH_BODY))
async def token(body: TokenIn, c: Ctx, tokens: BearerTokens) -> dict[str, Any]:
    signed_in = await sign_in(c, body.username, body.password)
    grant = await c.run(sessions.grant, c.deps, signed_in.actor, c.refresh_for)
    notice = signed_in.notice
    return _token_answer(grant, tokens) | {
        "failed_attempts_since_last_sign_in": notice.failed_attempts,
        "last_sign_in_at": notice.last_sign_in_at.isoformat() if notice.last_sign_in_at else None,
    }


@router.post(
    "/refresh",
    summary="A new token pair for a refresh token (which is then used up)",
    **answers(Token, 401, 422, *WITH_BODY),
)
async def refresh(body: RefreshIn, c: Ctx, tokens: BearerTokens) -> dict[str, Any]:
    try:
        grant = await c.run(sessions.refresh, c.deps, body.refresh_token, c.refresh_for)
    except sessions.RefreshReused as reused:  # the user's generation was just raised: no cached one may stand
        tokens.generations.forget(reused.user_id)
        raise
    return _token_answer(grant, tokens)


@router.post(
    "/password",
    summary="Change one's own password (also a temporary one); other sessions end, fresh tokens come back",
    **answers(Token, *SIGNED_IN, *WITH_BODY, permission="account.own"),
)
async def change_password(body: OwnPasswordIn, actor: AccountActor, c: Ctx, tokens: BearerTokens) -> dict[str, Any]:
    await c.run(accounts.change_own_password, c.deps, actor, body.old_password, body.new_password)
    tokens.generations.forget(actor.id)
    grant = await c.run(sessions.grant, c.deps, actor, c.refresh_for)
    return _token_answer(grant, tokens)


@router.post(
    "/sign-out-everywhere",
    summary="End every session of the caller, this one included",
    **answers(User, *SIGNED_IN, permission="account.own"),
)
async def sign_out_everywhere(actor: AccountActor, c: Ctx, tokens: BearerTokens) -> dict[str, Any]:
    user = await c.run(accounts.sign_out_self, c.deps, actor)
    tokens.generations.forget(actor.id)
    return plain(user)


@router.get("/me", summary="Who the token belongs to", **answers(Me, *SIGNED_IN, permission="*"))
async def me(actor: AccountActor) -> dict[str, Any]:
    return {
        "id": actor.id,
        "role": actor.role.value,
        "merchant_id": actor.merchant_id,
        "display_name": actor.name,
        "terminal_id": actor.terminal_id,
    }


@router.post(
    "/users/{user_id}/unlock",
    summary="Lift a user's sign-in lock-out (audited)",
    **answers(None, *SIGNED_IN, 404, status=204, permission="user.manage+provider"),
)
async def unlock(user_id: str, actor: CurrentActor, c: Ctx) -> Response:
    await c.run(auth_service.unlock_user, c.deps, actor, user_id)
    return Response(status_code=204)
