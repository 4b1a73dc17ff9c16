"""Sign-in: username and password for a bearer token."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from posrefund.entrypoints.api.context import BearerTokens, Ctx, CurrentActor
from posrefund.entrypoints.api.responses import SIGNED_IN, WITH_BODY, Me, Token, answers
from posrefund.entrypoints.api.schemas import TokenIn
from posrefund.service import auth as auth_service

router = APIRouter(prefix="/v1/auth", tags=["auth"])


@router.post("/token", summary="Sign in for a bearer token", **answers(Token, 401, 422, *WITH_BODY))
async def token(body: TokenIn, c: Ctx, tokens: BearerTokens) -> dict[str, Any]:
    actor = await c.run(auth_service.login, c.deps, body.username, body.password)
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
