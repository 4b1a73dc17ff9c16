"""Risk warnings (风险预警): the alerts the rules raised and a person's decisions on them, the rules with each
merchant's settings, a back-test over history, and a scan that keeps what the rules find as alerts."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import AwareDatetime, Field

from posrefund.domain.errors import NotFound
from posrefund.domain.roles import Actor
from posrefund.entrypoints.api.context import AppContext, Ctx, CurrentActor
from posrefund.entrypoints.api.responses import SIGNED_IN, WITH_BODY, answers
from posrefund.entrypoints.api.responses_risk import (
    RiskAlertDetail,
    RiskAlertList,
    RiskBacktest,
    RiskHold,
    RiskHoldList,
    RiskRules,
    RiskScan,
)
from posrefund.entrypoints.api.schemas import Body
from posrefund.ports.risk import AlertQuery
from posrefund.service.risk import alerts, holds
from posrefund.service.risk.backtest import backtest

router = APIRouter(prefix="/v1/risk", tags=["risk"])
STEP = (*SIGNED_IN, *WITH_BODY, 404, 409)
Id = Annotated[str, Field(min_length=1, max_length=40)]
Settings = dict[Annotated[str, Field(max_length=40)], dict[Annotated[str, Field(max_length=40)], bool | int | float]]


class DecisionIn(Body):
    status: Literal["investigating", "confirmed", "dismissed"]
    reason: Annotated[str, Field(max_length=2000)] = ""
    assign_to: Annotated[str | None, Field(max_length=40)] = None


class AssignIn(Body):
    user_id: Annotated[str, Field(max_length=40)]


class LinkIn(Body):
    case_id: Id


class RulesIn(Body):
    rules: Settings


class WindowIn(Body):
    start: AwareDatetime
    end: AwareDatetime


class BacktestIn(WindowIn):
    rules: Settings | None = None


@router.get("/alerts", summary="List risk alerts", **answers(RiskAlertList, *SIGNED_IN, permission="risk.read"))
async def list_alerts(
    actor: CurrentActor,
    c: Ctx,
    status: Annotated[Literal["new", "investigating", "confirmed", "dismissed"] | None, Query()] = None,
    rule: Annotated[str | None, Query(max_length=40)] = None,
    severity: Annotated[Literal["low", "medium", "high"] | None, Query()] = None,
    assigned_to: Annotated[str | None, Query(max_length=40)] = None,
    case_id: Annotated[str | None, Query(max_length=40)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> dict[str, Any]:
    query = AlertQuery(status, rule, severity, assigned_to, case_id, limit, offset)
    items, total = await c.run(alerts.list_alerts, c.deps, actor, query)
    return {"items": items, "total": total}


@router.get(
    "/alerts/{alert_id}", summary="One risk alert", **answers(RiskAlertDetail, *SIGNED_IN, 404, permission="risk.read")
)
async def get_alert(alert_id: str, actor: CurrentActor, c: Ctx) -> dict[str, Any]:
    return await c.run(alerts.get_alert, c.deps, actor, alert_id)


@router.post(
    "/alerts/{alert_id}/decide",
    summary="Investigate, confirm or dismiss a risk alert",
    **answers(RiskAlertDetail, *STEP, permission="risk.decide"),
)
async def decide(alert_id: str, body: DecisionIn, actor: CurrentActor, c: Ctx) -> dict[str, Any]:
    decision = alerts.Decision(body.status, body.reason, body.assign_to)
    return await c.run(alerts.decide, c.deps, actor, alert_id, decision)


@router.post(
    "/alerts/{alert_id}/assign",
    summary="Assign a risk alert to a person",
    **answers(RiskAlertDetail, *STEP, permission="risk.decide"),
)
async def assign(alert_id: str, body: AssignIn, actor: CurrentActor, c: Ctx) -> dict[str, Any]:
    return await c.run(alerts.assign, c.deps, actor, alert_id, body.user_id)


@router.post(
    "/alerts/{alert_id}/cases",
    summary="Link a refund case to a risk alert",
    **answers(RiskAlertDetail, *STEP, permission="risk.decide"),
)
async def link_case(alert_id: str, body: LinkIn, actor: CurrentActor, c: Ctx) -> dict[str, Any]:
    return await c.run(alerts.link_case, c.deps, actor, alert_id, body.case_id)


@router.get(
    "/rules",
    summary="The risk rules and this merchant's settings",
    **answers(RiskRules, *SIGNED_IN, permission="risk.read"),
)
async def get_rules(actor: CurrentActor, c: Ctx) -> dict[str, Any]:
    return await c.run(alerts.rules_view, c.deps, actor)


@router.put(
    "/rules",
    summary="Set this merchant's risk rules (on/off, thresholds)",
    **answers(RiskRules, *SIGNED_IN, *WITH_BODY, permission="risk.configure"),
)
async def put_rules(body: RulesIn, actor: CurrentActor, c: Ctx) -> dict[str, Any]:
    return await c.run(alerts.put_rules, c.deps, actor, body.rules)


@router.post(
    "/backtest",
    summary="What the rules would have flagged over a range of history (nothing is written)",
    **answers(RiskBacktest, *SIGNED_IN, *WITH_BODY, permission="risk.read"),
)
async def run_backtest(body: BacktestIn, actor: CurrentActor, c: Ctx) -> dict[str, Any]:
    return await c.run(backtest, c.deps, actor, body.start, body.end, body.rules)


@router.post(
    "/scan",
    summary="Run the rules over a range and keep what they find as alerts",
    **answers(RiskScan, *SIGNED_IN, *WITH_BODY, permission="risk.scan"),
)
async def scan(body: WindowIn, actor: CurrentActor, c: Ctx) -> dict[str, Any]:
    result = await c.run(alerts.scan, c.deps, actor, body.start, body.end)
    return {"raised": result.raised, "updated": result.updated, "unchanged": result.unchanged}


class HoldDecisionIn(Body):
    reason: Annotated[str, Field(max_length=500)] = ""


@router.get(
    "/holds",
    summary="Refunds held by a high alert, waiting for a second review",
    **answers(RiskHoldList, *SIGNED_IN, permission="refund.release_hold"),
)
async def list_holds(actor: CurrentActor, c: Ctx) -> dict[str, Any]:
    return {"items": await c.run(holds.held_cases, c.deps, actor)}


@router.get(
    "/holds/{case_id}",
    summary="The risk hold on one refund case",
    **answers(RiskHold, *SIGNED_IN, 404, permission="refund.read"),
)
async def get_hold(case_id: str, actor: CurrentActor, c: Ctx) -> dict[str, Any]:
    hold = await c.run(holds.hold_of, c.deps, actor, case_id)
    if hold is None:
        raise NotFound("risk.not_held")
    return dict(hold)


async def _decide_hold(c: AppContext, actor: Actor, case_id: str, release: bool, reason: str) -> dict[str, Any]:
    await c.run(holds.decide_hold, c.deps, actor, case_id, release, reason)
    hold = await c.run(holds.hold_of, c.deps, actor, case_id)
    return dict(hold or {})


@router.post(
    "/holds/{case_id}/release",
    summary="Second review: let a held refund go to its channel (not by its requester or approver)",
    **answers(RiskHold, *STEP, permission="refund.release_hold"),
)
async def release_hold(case_id: str, actor: CurrentActor, c: Ctx, body: HoldDecisionIn | None = None) -> dict[str, Any]:
    return await _decide_hold(c, actor, case_id, True, body.reason if body else "")


@router.post(
    "/holds/{case_id}/reject",
    summary="Second review: stop a held refund before any money moves, with a reason",
    **answers(RiskHold, *STEP, permission="refund.release_hold"),
)
async def reject_hold(case_id: str, body: HoldDecisionIn, actor: CurrentActor, c: Ctx) -> dict[str, Any]:
    return await _decide_hold(c, actor, case_id, False, body.reason)
