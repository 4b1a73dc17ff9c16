"""Merchants, stores, terminals, operators, API keys and the refund policy."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from posrefund.domain.errors import NotFound
from posrefund.domain.roles import Actor
from posrefund.entrypoints.api.context import AppContext, Ctx, CurrentActor
from posrefund.entrypoints.api.responses import (
    SIGNED_IN,
    WITH_BODY,
    ApiKey,
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
from posrefund.entrypoints.api.schemas import ApiKeyIn, MerchantIn, PolicyIn, StoreIn, TerminalIn, UserIn, dump
from posrefund.entrypoints.api.views import plain
from posrefund.service import admin, policies

router = APIRouter(prefix="/v1", tags=["admin"])
# Creating: the body may be refused, a referenced store or terminal may not exist, a code or name may be taken.
CREATE = (*SIGNED_IN, *WITH_BODY, 404, 409)


async def _create(c: AppContext, actor: Actor, command: Callable[..., dict[str, Any]], body: BaseModel) -> JSONResponse:
    """Every set-up object is created the same way: the body's fields to the service, the row back as 201."""
    return JSONResponse(plain(await c.run(command, c.deps, actor, **dump(body))), status_code=201)


async def _items(c: AppContext, actor: Actor, query: Callable[..., list[dict[str, Any]]]) -> dict[str, Any]:
    return {"items": [plain(r) for r in await c.run(query, c.deps, actor)]}


@router.post("/merchants", **answers(Merchant, *CREATE, status=201, permission="merchant.create"))
async def create_merchant(body: MerchantIn, actor: CurrentActor, c: Ctx) -> JSONResponse:
    return await _create(c, actor, admin.create_merchant, body)


@router.get("/merchants/me", **answers(Merchant, *SIGNED_IN, 404, permission="merchant.read"))
async def my_merchant(actor: CurrentActor, c: Ctx) -> dict[str, Any]:
    actor.require("merchant.read")

    def load() -> dict[str, Any] | None:
        with c.deps.uow(readonly=True) as uow:
            return uow.merchants.get_merchant(actor.merchant_id or "")

    row = await c.run(load)
    if row is None:
        raise NotFound("merchant.not_found")
    return plain(row)


@router.post("/stores", **answers(Store, *CREATE, status=201, permission="store.manage"))
async def create_store(body: StoreIn, actor: CurrentActor, c: Ctx) -> JSONResponse:
    return await _create(c, actor, admin.create_store, body)


@router.get("/stores", **answers(StoreList, *SIGNED_IN, permission="merchant.read"))
async def list_stores(actor: CurrentActor, c: Ctx) -> dict[str, Any]:
    return await _items(c, actor, admin.list_stores)


@router.post("/terminals", **answers(Terminal, *CREATE, status=201, permission="terminal.manage"))
async def create_terminal(body: TerminalIn, actor: CurrentActor, c: Ctx) -> JSONResponse:
    return await _create(c, actor, admin.create_terminal, body)


@router.get("/terminals", **answers(TerminalList, *SIGNED_IN, permission="merchant.read"))
async def list_terminals(actor: CurrentActor, c: Ctx) -> dict[str, Any]:
    return await _items(c, actor, admin.list_terminals)


@router.post("/users", **answers(User, *CREATE, status=201, permission="user.manage+provider"))
async def create_user(body: UserIn, actor: CurrentActor, c: Ctx) -> JSONResponse:
    return await _create(c, actor, admin.create_user, body)


@router.get("/users", **answers(UserList, *SIGNED_IN, permission="user.manage"))
async def list_users(actor: CurrentActor, c: Ctx) -> dict[str, Any]:
    return await _items(c, actor, admin.list_users)


@router.post("/api-keys", **answers(ApiKey, *CREATE, status=201, permission="apikey.create"))
async def create_api_key(body: ApiKeyIn, actor: CurrentActor, c: Ctx) -> JSONResponse:
    return await _create(c, actor, admin.create_api_key, body)


@router.get("/policy", **answers(Policy, *SIGNED_IN, permission="policy.read"))
async def get_policy(actor: CurrentActor, c: Ctx) -> dict[str, Any]:
    return (await c.run(policies.get_policy, c.deps, actor)).to_dict()


@router.put("/policy", **answers(PolicyVersion, *SIGNED_IN, *WITH_BODY, permission="policy.write"))
async def put_policy(body: PolicyIn, actor: CurrentActor, c: Ctx) -> dict[str, Any]:
    policy, version = await c.run(policies.put_policy, c.deps, actor, dump(body))
    return {**policy.to_dict(), "version": version}
