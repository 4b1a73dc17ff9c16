"""Merchants, stores, terminals, operators, API keys and the refund policy."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from posrefund.domain.errors import NotFound
from posrefund.entrypoints.api.context import Ctx, CurrentActor
from posrefund.entrypoints.api.listing import add_listing
from posrefund.entrypoints.api.responses import (
    SIGNED_IN,
    WITH_BODY,
    ApiKey,
    ChannelAccount,
    Merchant,
    Policy,
    PolicyVersion,
    Store,
    StoreList,
    Terminal,
    TerminalList,
    User,
    UserList,
    answers,
)
from posrefund.entrypoints.api.responses_access import PolicyPreviewOut
from posrefund.entrypoints.api.schemas import (
    ApiKeyIn,
    ChannelAccountIn,
    MerchantIn,
    PolicyIn,
    SettlementAccountIn,
    StoreIn,
    TerminalIn,
    UserIn,
    dump,
)
from posrefund.entrypoints.api.views import plain
from posrefund.ports import MerchantRow
from posrefund.service import admin, channel_accounts, merchant_onboarding, policies, policy_preview

router = APIRouter(prefix="/v1", tags=["admin"])
# Creating: the body may be refused, a referenced store or terminal may not exist, a code or name may be taken.
CREATE = (*SIGNED_IN, *WITH_BODY, 404, 409)
Command = Callable[..., Mapping[str, Any]]


def _add_creation(
    path: str,
    model: type[BaseModel],
    answer: type[BaseModel],
    command: Command,
    permission: str,
    *,
    name: str,
    summary: str,
) -> None:
    """``POST path``: the body's fields to the service command, the new row back as 201. Every set-up
    object is created this way."""

    async def create(body: BaseModel, actor: CurrentActor, c: Ctx) -> JSONResponse:
        return JSONResponse(plain(await c.run(command, c.deps, actor, **dump(body))), status_code=201)

    create.__annotations__["body"] = model  # the route reads and documents this very model
    router.add_api_route(
        path,
        create,
        methods=["POST"],
        name=name,
        summary=summary,
        **answers(answer, *CREATE, status=201, permission=permission),
    )


_add_creation(
    "/merchants",
    MerchantIn,
    Merchant,
    admin.create_merchant,
    "merchant.create",
    name="create_merchant",
    summary="Create a merchant",
)


@router.put(
    "/merchants/{merchant_id}/settlement-account",
    summary="Record a merchant's new settlement account (the provider's administrator)",
    **answers(Merchant, *CREATE, permission="merchant.create"),
)
async def change_settlement_account(
    merchant_id: str, body: SettlementAccountIn, actor: CurrentActor, c: Ctx
) -> dict[str, Any]:
    row = await c.run(merchant_onboarding.change_settlement_account, c.deps, actor, merchant_id, **body.model_dump())
    return plain(row)


@router.get(
    "/merchants/me", summary="The caller's merchant", **answers(Merchant, *SIGNED_IN, 404, permission="merchant.read")
)
async def my_merchant(actor: CurrentActor, c: Ctx) -> dict[str, Any]:
    actor.require("merchant.read")

    def load() -> MerchantRow | None:
        with c.deps.uow(readonly=True) as uow:
            return uow.merchants.get_merchant(actor.merchant_id or "")

    row = await c.run(load)
    if row is None:
        raise NotFound("merchant.not_found")
    return plain(row)


@router.put(
    "/merchants/{merchant_id}/channel-accounts/{channel}",
    summary="Set a merchant's sub-merchant account on a channel (WeChat Pay 服务商 sub_mchid)",
    **answers(ChannelAccount, *SIGNED_IN, *WITH_BODY, 404, permission="merchant.channel_account"),
)
async def put_channel_account(
    merchant_id: str, channel: str, body: ChannelAccountIn, actor: CurrentActor, c: Ctx
) -> dict[str, Any]:
    row = await c.run(channel_accounts.set_channel_account, c.deps, actor, merchant_id, channel, **dump(body))
    return plain(row)


@router.get(
    "/merchants/{merchant_id}/channel-accounts/{channel}",
    summary="A merchant's sub-merchant account on a channel",
    **answers(ChannelAccount, *SIGNED_IN, 404, permission="merchant.channel_account"),
)
async def get_channel_account(merchant_id: str, channel: str, actor: CurrentActor, c: Ctx) -> dict[str, Any]:
    row = await c.run(channel_accounts.get_channel_account, c.deps, actor, merchant_id, channel)
    if row is None:
        raise NotFound("channel_account.not_found")
    return plain(row)


_add_creation(
    "/stores", StoreIn, Store, admin.create_store, "store.manage", name="create_store", summary="Create a store"
)
add_listing(
    router,
    "/stores",
    StoreList,
    admin.list_stores,
    "merchant.read",
    name="list_stores",
    summary="The merchant's stores",
    row=plain,
)
_add_creation(
    "/terminals",
    TerminalIn,
    Terminal,
    admin.create_terminal,
    "terminal.manage",
    name="create_terminal",
    summary="Create a terminal",
)
add_listing(
    router,
    "/terminals",
    TerminalList,
    admin.list_terminals,
    "merchant.read",
    name="list_terminals",
    summary="The merchant's terminals",
    row=plain,
)
_add_creation(
    "/users", UserIn, User, admin.create_user, "user.manage+provider", name="create_user", summary="Create an operator"
)
add_listing(
    router,
    "/users",
    UserList,
    admin.list_users,
    "user.manage",
    name="list_users",
    summary="The merchant's operators",
    row=plain,
)
_add_creation(
    "/api-keys",
    ApiKeyIn,
    ApiKey,
    admin.create_api_key,
    "apikey.create",
    name="create_api_key",
    summary="Create a terminal's API key",
)


@router.get("/policy", summary="The refund policy", **answers(Policy, *SIGNED_IN, permission="policy.read"))
async def get_policy(actor: CurrentActor, c: Ctx) -> dict[str, Any]:
    return (await c.run(policies.get_policy, c.deps, actor)).to_dict()


@router.put(
    "/policy",
    summary="Replace the refund policy",
    **answers(PolicyVersion, *SIGNED_IN, *WITH_BODY, permission="policy.write"),
)
async def put_policy(body: PolicyIn, actor: CurrentActor, c: Ctx) -> dict[str, Any]:
    policy, version = await c.run(policies.put_policy, c.deps, actor, dump(body))
    return {**policy.to_dict(), "version": version}


@router.post(
    "/policy/preview",
    summary="What a policy would have done to the last 30 days' refunds, beside the one in force (saves nothing)",
    **answers(PolicyPreviewOut, *SIGNED_IN, *WITH_BODY, permission="policy.write"),
)
async def preview_policy(body: PolicyIn, actor: CurrentActor, c: Ctx) -> dict[str, Any]:
    found = await c.run(policy_preview.preview, c.deps, actor, dump(body))
    outcome = {
        side: vars(getattr(found, side)) | {"refused_by": dict(getattr(found, side).refused_by)}
        for side in ("current", "proposed")
    }
    return {"cases": found.cases, "days": found.days, "capped": found.capped, **outcome}
