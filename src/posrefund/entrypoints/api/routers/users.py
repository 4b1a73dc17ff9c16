"""The life of operators and terminal keys: deactivate, reactivate, change a role, reset a password, sign a
user out everywhere, list and revoke keys. The service decides who may (service/accounts.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel

from posrefund.domain.roles import Actor
from posrefund.entrypoints.api.context import AppContext, Ctx, CurrentActor
from posrefund.entrypoints.api.listing import add_listing
from posrefund.entrypoints.api.responses import SIGNED_IN, WITH_BODY, User, UserList, answers
from posrefund.entrypoints.api.responses_access import ApiKeyInfo, ApiKeyInfoList
from posrefund.entrypoints.api.schemas_access import RoleIn, TemporaryPasswordIn
from posrefund.entrypoints.api.views import plain
from posrefund.service import accounts

router = APIRouter(prefix="/v1", tags=["users"])
# A change to a user: the role may not, the user may be out of reach (404) or oneself (403).
CHANGE = (*SIGNED_IN, 404)
Change = Callable[..., dict[str, Any]]


async def _apply(c: AppContext, actor: Actor, command: Change, user_id: str, *args: Any) -> dict[str, Any]:
    """The service command on the user, the changed user back. The token cache forgets the user at once,
    so a token revoked here fails on its very next request to this process."""
    user = await c.run(command, c.deps, actor, user_id, *args)
    c.tokens.generations.forget(user_id)
    return plain(user)


def _add_user_step(step: str, command: Change, body: type[BaseModel] | None, *, summary: str) -> None:
    """``POST /v1/users/{user_id}/<step>``, with the body's one field (if any) handed to the command."""
    if body is None:

        async def change(user_id: str, actor: CurrentActor, c: Ctx) -> dict[str, Any]:
            return await _apply(c, actor, command, user_id)

    else:

        async def change(user_id: str, payload: BaseModel, actor: CurrentActor, c: Ctx) -> dict[str, Any]:  # type: ignore[misc]
            return await _apply(c, actor, command, user_id, *payload.model_dump().values())

        change.__annotations__["payload"] = body  # the route reads and documents this very model

    router.add_api_route(
        f"/users/{{user_id}}/{step}",
        change,
        methods=["POST"],
        name=f"user_{step.replace('-', '_')}",
        summary=summary,
        **answers(User, *CHANGE, *(WITH_BODY if body else ()), permission="user.manage+provider"),
    )


_add_user_step("deactivate", accounts.deactivate_user, None, summary="Deactivate a user (their tokens end)")
_add_user_step("activate", accounts.activate_user, None, summary="Reactivate a user")
_add_user_step("role", accounts.set_role, RoleIn, summary="Change a user's role (their tokens end)")
_add_user_step(
    "password",
    accounts.reset_password,
    TemporaryPasswordIn,
    summary="Set a temporary password the user must change (their tokens end)",
)
_add_user_step("sign-out-everywhere", accounts.sign_out_everywhere, None, summary="End every session of a user")


@router.get(
    "/merchants/{merchant_id}/users",
    summary="A merchant's operators (a provider admin: its provider's merchants only)",
    **answers(UserList, *SIGNED_IN, 404, permission="user.manage+provider"),
)
async def merchant_users(merchant_id: str, actor: CurrentActor, c: Ctx) -> dict[str, Any]:
    return {"items": [plain(u) for u in await c.run(accounts.list_merchant_users, c.deps, actor, merchant_id)]}


add_listing(
    router,
    "/api-keys",
    ApiKeyInfoList,
    accounts.list_api_keys,
    "apikey.revoke",
    name="list_api_keys",
    summary="The merchant's terminal keys (never their secrets)",
    row=plain,
)


@router.post(
    "/api-keys/{key_id}/revoke",
    summary="Revoke a terminal's key: it fails on its next request",
    **answers(ApiKeyInfo, *SIGNED_IN, 404, 409, permission="apikey.revoke"),
)
async def revoke_api_key(key_id: str, actor: CurrentActor, c: Ctx) -> dict[str, Any]:
    return plain(await c.run(accounts.revoke_api_key, c.deps, actor, key_id))
