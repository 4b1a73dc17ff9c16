"""The risk queue (风险预警): the alerts the rules raised with their severity, rule and status; one alert with its
evidence, its cases and the people it names; a person's steps on it (investigate, confirm, dismiss with a reason,
assign), each audited by the service; the confirmed/dismissed counts per rule; and the refunds a high alert holds
for a second review, released or stopped from here."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from posrefund.domain.errors import NotFound
from posrefund.entrypoints.console.form_errors import Errors
from posrefund.entrypoints.console.forms import page_number, paging, posted, texts
from posrefund.entrypoints.console.web import PREFIX, ConsoleRoute, allowed, lang_of, may, render, submit
from posrefund.ports.risk import AlertQuery
from posrefund.service.risk import alerts, holds
from posrefund.service.risk.alerts import A, Decision
from posrefund.service.risk.evaluate import SEVERITIES
from posrefund.service.risk.rules import RULES

router = APIRouter(prefix=PREFIX, route_class=ConsoleRoute, include_in_schema=False)
PAGE = 30
Typed = dict[str, str] | None
FIELD_OF = {"risk.reason_required": "reason", "risk.reason_too_long": "reason", "user.not_found": "user_id"}


def _filters(request: Request) -> dict[str, str]:
    q = request.query_params
    values = {k: q.get(k, "")[:40] for k in ("status", "severity", "rule", "page")}
    for name, choices in (
        ("status", [s.value for s in A]),
        ("severity", SEVERITIES),
        ("rule", [r.code for r in RULES]),
    ):
        if values[name] not in choices:
            values[name] = ""
    return values


@router.get("/risk")
async def queue(request: Request) -> Response:
    actor, c = allowed(request, "risk.read")
    errors = Errors(lang_of(request))
    values = _filters(request)
    page = page_number(values["page"], errors, last=10_000)
    query = AlertQuery(
        status=values["status"] or None,
        severity=values["severity"] or None,
        rule=values["rule"] or None,
        limit=PAGE,
        offset=(page - 1) * PAGE,
    )
    items, total = await c.run(alerts.list_alerts, c.deps, actor, query)
    rules = (await c.run(alerts.rules_view, c.deps, actor))["rules"]
    held = await c.run(holds.held_cases, c.deps, actor) if may(actor, "refund.release_hold") else []
    qs = "&".join(f"{k}={v}" for k, v in values.items() if v and k != "page")
    return render(
        request,
        "risk.html",
        items=items,
        total=total,
        rules=rules,
        held=held,
        values=values,
        statuses=list(A),
        severities=SEVERITIES,
        link=f"{PREFIX}/risk?{qs}&",
        **paging(page, total, PAGE),
        errors=errors,
    )


async def _alert_page(
    request: Request,
    alert_id: str,
    status: int = 200,
    errors: Errors | None = None,
    typed: dict[str, str] | None = None,
) -> Response:
    actor, c = allowed(request, "risk.read")
    alert = await c.run(alerts.get_alert, c.deps, actor, alert_id)
    lines = alert["evidence"].get("summary") or ["", ""]
    return render(
        request,
        "risk_alert.html",
        status,
        alert=alert,
        summary=lines[1] if lang_of(request) == "en" else lines[0],
        measures=_measures(alert["evidence"].get("measures", {})),
        decided=alert["status"] in (A.CONFIRMED, A.DISMISSED),
        typed=typed or {"reason": "", "user_id": actor.id},
        errors=errors or Errors(lang_of(request)),
    )


def _measures(measures: dict[str, Any]) -> list[tuple[str, Any]]:
    """The numbers behind the alert, plain ones only (lists of ids are the cases and people shown apart)."""
    return [(k, v) for k, v in sorted(measures.items()) if isinstance(v, int | float | str) and v != ""]


@router.get("/risk/alerts/{alert_id}")
async def alert_page(request: Request, alert_id: str) -> Response:
    return await _alert_page(request, alert_id[:64])


@router.post("/risk/alerts/{alert_id}/decide")
async def decide(request: Request, alert_id: str) -> Response:
    actor, c, form = await posted(request, "risk.decide")
    typed = texts(form, "status", "reason", "user_id")

    async def step() -> object:
        return await c.run(alerts.decide, c.deps, actor, alert_id, Decision(typed["status"], typed["reason"]))

    return await _act(request, alert_id, step, typed)


@router.post("/risk/alerts/{alert_id}/assign")
async def assign(request: Request, alert_id: str) -> Response:
    actor, c, form = await posted(request, "risk.decide")
    typed = texts(form, "reason", "user_id")

    async def step() -> object:
        return await c.run(alerts.assign, c.deps, actor, alert_id, typed["user_id"].strip()[:40])

    return await _act(request, alert_id, step, typed)


async def _act(request: Request, alert_id: str, step: Any, typed: dict[str, str]) -> Response:
    return await submit(
        request,
        step,
        lambda errors: _alert_page(request, alert_id, 422, errors, typed),
        f"{PREFIX}/risk/alerts/{alert_id[:64]}",
        FIELD_OF,
        passing=("risk.alert_not_found", "auth.forbidden"),
    )


@router.post("/risk/holds/{case_id}/{verdict}")
async def decide_hold(request: Request, case_id: str, verdict: str) -> Response:
    """Release a held refund or stop it; refused steps come back as the error page with their reason."""
    if verdict not in ("release", "reject"):
        raise NotFound("request.not_found")
    actor, c, form = await posted(request, "refund.release_hold")
    reason = str(form.get("reason") or "")
    await c.run(holds.decide_hold, c.deps, actor, case_id[:64], verdict == "release", reason)
    return RedirectResponse(f"{PREFIX}/cases/{case_id[:64]}", status_code=303)


@router.get("/cases/{case_id}/hold")
async def case_hold(request: Request, case_id: str) -> Response:
    """The case page's part about a risk hold (loaded into it): held, released or stopped, and by whom; with the
    second reviewer's two buttons while it is held. Nothing when no alert ever held the case."""
    actor, c = allowed(request, "refund.read")
    hold = await c.run(holds.hold_of, c.deps, actor, case_id[:64])
    return render(request, "_case_hold.html", hold=hold, case_id=case_id[:64])
