"""The business-day override table (调休 announced late, a bank's own closure): provider admins edit it."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import Field

from posrefund.entrypoints.api.context import Channels, Ctx, CurrentActor
from posrefund.entrypoints.api.responses import SIGNED_IN, WITH_BODY, Override, OverrideList, answers
from posrefund.entrypoints.api.schemas import Body
from posrefund.service import calendar as calendar_service

router = APIRouter(prefix="/v1/calendar", tags=["calendar"])


class OverrideIn(Body):
    day: date
    workday: bool
    note: Annotated[str, Field(max_length=200)] = ""


@router.get(
    "/overrides",
    summary="Business-day overrides",
    **answers(OverrideList, *SIGNED_IN, permission="merchant.read+provider"),
)
async def overrides(actor: CurrentActor, c: Ctx) -> dict[str, Any]:
    rows = await c.run(calendar_service.list_overrides, c.deps, actor)
    return {"items": [{"day": d.isoformat(), "workday": w} for d, w in sorted(rows.items())]}


@router.put(
    "/overrides",
    summary="Set a business-day override",
    **answers(Override, *SIGNED_IN, *WITH_BODY, permission="calendar.manage"),
)
async def put_override(body: OverrideIn, actor: CurrentActor, c: Ctx, channels: Channels) -> dict[str, Any]:
    rows = await c.run(calendar_service.put_override, c.deps, actor, body.day, body.workday, body.note)
    channels.replace_overrides(rows)  # the calendar the worker and API share reads this very dict
    return {"day": body.day.isoformat(), "workday": body.workday}
