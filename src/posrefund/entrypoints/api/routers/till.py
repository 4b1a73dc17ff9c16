"""Till checks (日结 / 现金盘点): the cashier counts the drawer at the end of a shift, posrefund compares it with the
shift's float, cash sales and cash refunds; a supervisor signs the shift off; the administrator sets the
tolerance beyond which a difference opens a wrong-charge investigation."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from posrefund.entrypoints.api.context import Ctx, CurrentActor
from posrefund.entrypoints.api.responses import SIGNED_IN, WITH_BODY, answers
from posrefund.entrypoints.api.schemas_desk import (
    SignOffIn,
    Till,
    TillIn,
    TillList,
    TillWithEvents,
    Tolerance,
    ToleranceIn,
)
from posrefund.entrypoints.api.views import plain
from posrefund.service import till
from posrefund.service.till import TillCount

router = APIRouter(prefix="/v1/tills", tags=["till"])
ON_OBJECT = (*SIGNED_IN, 404)


@router.post(
    "",
    summary="Count the till at the end of a shift",
    **answers(Till, *ON_OBJECT, *WITH_BODY, 409, status=201, permission="till.count"),
)
async def count(body: TillIn, actor: CurrentActor, c: Ctx) -> dict[str, Any]:
    entered = TillCount(
        terminal_id=body.terminal_id,
        opened_at=body.opened_at,
        closed_at=body.closed_at,
        float_fen=body.float_fen,
        counted_fen=body.counted_fen,
        denominations=body.denominations,
    )
    return plain(await c.run(till.count_till, c.deps, actor, entered))


@router.get("", summary="Till checks, newest first", **answers(TillList, *SIGNED_IN, permission="till.read"))
async def list_tills(actor: CurrentActor, c: Ctx, limit: Annotated[int, Query(ge=1, le=200)] = 50) -> dict[str, Any]:
    return {"items": [plain(r) for r in await c.run(till.list_tills, c.deps, actor, limit)]}


@router.get("/tolerance", summary="The till tolerance", **answers(Tolerance, *SIGNED_IN, permission="till.read"))
async def get_tolerance(actor: CurrentActor, c: Ctx) -> dict[str, Any]:
    return {"tolerance_fen": await c.run(till.tolerance, c.deps, actor)}


@router.put(
    "/tolerance",
    summary="Set the till tolerance",
    **answers(Tolerance, *SIGNED_IN, *WITH_BODY, permission="till.configure"),
)
async def put_tolerance(body: ToleranceIn, actor: CurrentActor, c: Ctx) -> dict[str, Any]:
    return {"tolerance_fen": await c.run(till.set_tolerance, c.deps, actor, body.tolerance_fen)}


@router.get("/{till_id}", summary="One till check", **answers(TillWithEvents, *ON_OBJECT, permission="till.read"))
async def get_till(till_id: str, actor: CurrentActor, c: Ctx) -> dict[str, Any]:
    found = await c.run(till.get_till, c.deps, actor, till_id)
    return {**plain(found), "events": [plain(e) for e in found["events"]]}


@router.post(
    "/{till_id}/sign-off",
    summary="Sign off a shift",
    **answers(Till, *ON_OBJECT, *WITH_BODY, 409, permission="till.sign_off"),
)
async def sign_off(till_id: str, body: SignOffIn, actor: CurrentActor, c: Ctx) -> dict[str, Any]:
    return plain(await c.run(till.sign_off, c.deps, actor, till_id, body.note))
