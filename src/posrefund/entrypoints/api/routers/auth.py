"""Sign-in: username and password for a bearer token; an admin lifts a lock-out."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.responses import Response

from posrefund.entrypoints.api.context import BearerTokens, Ctx, CurrentActor
from posrefund.entrypoints.api.responses import SIGNED_IN, WITH_BODY, Me, Token, answers
from posrefund.entrypoints.api.schemas import TokenIn
from posrefund.entrypoints.api.signin import sign_in
from posrefund.service import auth as auth_service

router = APIRouter(prefix="/v1/auth", tags=["auth"])


@router.post("/token", summary="Sign in for a bearer token", **answers(Token, 401, 422, 429, 503, *WITH_BODY))
async def token(body: TokenIn, c: Ctx, tokens: BearerTokens) -> dict[str, Any]:
    signed_in = await sign_in(c, body.username, body.password)
    actor, notice = signed_in.actor, signed_in.notice
    tok, exp = tokens.issue(actor)
    return {
        "access_token": tok,
        "token_type": "bearer",
        "expires_at": exp.isoformat(),
        "user": {
            "id": actor.id,
            "role": actor.role.value,
            "merchant_id": actor.merchant_id,
            "display_name": actor.name,
        },
        "failed_attempts_since_last_sign_in": notice.failed_attempts,
        "last_sign_in_at": notice.last_sign_in_at.isoformat() if notice.last_sign_in_at else None,
    }


@router.get("/me", summary="Who the token belongs to", **answers(Me, *SIGNED_IN, permission="*"))
async def me(actor: CurrentActor) -> dict[str, Any]:
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
