"""Merchants, stores, terminals, operators, API keys and the refund policy."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from posrefund.domain.errors import NotFound
from posrefund.entrypoints.api.context import Ctx, CurrentActor
from posrefund.entrypoints.api.schemas import ApiKeyIn, MerchantIn, PolicyIn, StoreIn, TerminalIn, UserIn, dump
from posrefund.entrypoints.api.views import plain
from posrefund.service import admin, policies

router = APIRouter(prefix="/v1", tags=["admin"])


def created(row: dict[str, Any]) -> JSONResponse:
    return JSONResponse(plain(row), status_code=201)


@router.post("/merchants", status_code=201)
async def create_merchant(body: MerchantIn, actor: CurrentActor, c: Ctx) -> JSONResponse:
    return created(await c.run(admin.create_merchant, c.deps, actor, **dump(body)))


@router.get("/merchants/me")
async def my_merchant(actor: CurrentActor, c: Ctx) -> dict[str, Any]:
    actor.require("merchant.read")

    def load() -> dict[str, Any] | None:
        with c.deps.uow(readonly=True) as uow:
            return uow.merchants.get_merchant(actor.merchant_id or "")

    row = await c.run(load)
    if row is None:
        raise NotFound("merchant.not_found")
    return plain(row)


@router.post("/stores", status_code=201)
async def create_store(body: StoreIn, actor: CurrentActor, c: Ctx) -> JSONResponse:
    return created(await c.run(admin.create_store, c.deps, actor, **dump(body)))


@router.get("/stores")
async def list_stores(actor: CurrentActor, c: Ctx) -> dict[str, Any]:
    return {"items": [plain(r) for r in await c.run(admin.list_stores, c.deps, actor)]}


@router.post("/terminals", status_code=201)
async def create_terminal(body: TerminalIn, actor: CurrentActor, c: Ctx) -> JSONResponse:
    return created(await c.run(admin.create_terminal, c.deps, actor, **dump(body)))


@router.get("/terminals")
async def list_terminals(actor: CurrentActor, c: Ctx) -> dict[str, Any]:
    return {"items": [plain(r) for r in await c.run(admin.list_terminals, c.deps, actor)]}


@router.post("/users", status_code=201)
async def create_user(body: UserIn, actor: CurrentActor, c: Ctx) -> JSONResponse:
    return created(await c.run(admin.create_user, c.deps, actor, **dump(body)))


@router.get("/users")
async def list_users(actor: CurrentActor, c: Ctx) -> dict[str, Any]:
    return {"items": [plain(r) for r in await c.run(admin.list_users, c.deps, actor)]}


@router.post("/api-keys", status_code=201)
async def create_api_key(body: ApiKeyIn, actor: CurrentActor, c: Ctx) -> JSONResponse:
    return created(await c.run(admin.create_api_key, c.deps, actor, **dump(body)))


@router.get("/policy")
async def get_policy(actor: CurrentActor, c: Ctx) -> dict[str, Any]:
    return (await c.run(policies.get_policy, c.deps, actor)).to_dict()


@router.put("/policy")
async def put_policy(body: PolicyIn, actor: CurrentActor, c: Ctx) -> dict[str, Any]:
    policy, version = await c.run(policies.put_policy, c.deps, actor, dump(body))
    return {**policy.to_dict(), "version": version}
