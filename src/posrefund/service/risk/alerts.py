"""Alerts: raised by a scan of the rules over a window, then worked by a person — investigated, confirmed or
dismissed (with a reason), assigned, linked to refund cases. Every change is an audit event; the counts of
confirmed and dismissed alerts per rule tell how well each rule earns its keep."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from posrefund.domain.errors import Conflict, Invalid, NotFound, check_step
from posrefund.domain.roles import Actor
from posrefund.ports import UnitOfWork
from posrefund.ports.risk import AlertQuery, AlertRow, NewAlert, Window
from posrefund.service.deps import Deps
from posrefund.service.records import record
from posrefund.service.refunds import policy_of
from posrefund.service.risk.evaluate import HIGH, SEVERITIES, Context, Finding, evaluate
from posrefund.service.risk.holds import hold_cases
from posrefund.service.risk.rules import BY_CODE, RULES, Settings, check_settings, merge

MAX_WINDOW_DAYS = 92
MAX_REASON = 2_000


class AlertStatus(StrEnum):
    NEW = "new"
    INVESTIGATING = "investigating"
    CONFIRMED = "confirmed"
    DISMISSED = "dismissed"


A = AlertStatus
TRANSITIONS: dict[AlertStatus, frozenset[AlertStatus]] = {
    A.NEW: frozenset({A.INVESTIGATING, A.CONFIRMED, A.DISMISSED}),
    A.INVESTIGATING: frozenset({A.CONFIRMED, A.DISMISSED}),
    A.CONFIRMED: frozenset(),
    A.DISMISSED: frozenset(),
}
OPEN = (A.NEW, A.INVESTIGATING)


def check_window(start: datetime, end: datetime) -> Window:
    """A window of history: aware times, start before end, at most ``MAX_WINDOW_DAYS`` long."""
    if start.tzinfo is None or end.tzinfo is None:
        raise Invalid("risk.invalid_window", max_days=MAX_WINDOW_DAYS)
    if not start < end or end - start > timedelta(days=MAX_WINDOW_DAYS):
        raise Invalid("risk.invalid_window", max_days=MAX_WINDOW_DAYS)
    return Window("", start, end)


def findings(uow: UnitOfWork, merchant_id: str, start: datetime, end: datetime, settings: Settings) -> list[Finding]:
    w = check_window(start, end)
    ctx = Context(uow.risk_facts, Window(merchant_id, w.start, w.end), policy_of(uow, merchant_id), settings)
    return evaluate(ctx)


@dataclass(frozen=True)
class ScanResult:
    raised: int
    updated: int
    unchanged: int


def scan(deps: Deps, actor: Actor, start: datetime, end: datetime) -> ScanResult:
    """Run the merchant's rules over ``[start, end)`` and keep what they found as alerts. A subject with an open
    alert of the same rule gets the new cases and a higher severity on that alert rather than a second one; a
    decided alert is followed by a new one only when there are cases it never had."""
    actor.require("risk.scan")
    mid = actor.merchant_id or ""
    with deps.uow(readonly=True) as uow:
        found = findings(uow, mid, start, end, merge(uow.risk.get_settings(mid)))
    return keep(deps, actor, Window(mid, start, end), found)


def keep(deps: Deps, actor: Actor, w: Window, found: list[Finding]) -> ScanResult:
    """Keep the findings of a scan as alerts, one transaction a rule: the rules read the history without holding
    the writer, and no write transaction grows with the window (a month of a large merchant is thousands of
    alerts). Keeping again what is kept changes nothing, so a scan stopped half-way is simply run again."""
    mid = w.merchant_id
    now = deps.clock.now()
    outcomes: list[str] = []
    for rule in dict.fromkeys(f.rule for f in found):
        with deps.uow() as uow:
            outcomes += [_keep(deps, uow, actor, f, w, now) for f in found if f.rule == rule]
            uow.commit()
    result = ScanResult(outcomes.count("raised"), outcomes.count("updated"), outcomes.count("unchanged"))
    with deps.uow() as uow:
        when = {"start": w.start.isoformat(), "end": w.end.isoformat()}
        record(uow, actor, mid, "risk.scanned", now, **when, raised=result.raised)
        uow.commit()
    return result


def _keep(deps: Deps, uow: UnitOfWork, actor: Actor, f: Finding, w: Window, now: datetime) -> str:
    mid = w.merchant_id
    last = uow.risk.latest_alert(mid, f.rule, f.subject_kind, f.subject_id)
    if last is not None:
        known = set(uow.risk.alert_cases(last["id"]))
        fresh = [c for c in f.case_ids if c not in known]
        if A(last["status"]) in OPEN:
            higher = SEVERITIES.index(f.severity) > SEVERITIES.index(last["severity"])
            if not fresh and not higher:
                return "unchanged"
            severity = f.severity if higher else last["severity"]
            uow.risk.update_alert(
                mid, last["id"], last["version"], severity=severity, evidence=f.evidence(), updated_at=now
            )
            uow.risk.link_cases(last["id"], fresh, "")
            record(uow, actor, mid, "risk.alert_updated", now, alert_id=last["id"], cases=len(fresh), severity=severity)
            if severity == HIGH:
                hold_cases(uow, actor, mid, last["id"], [*known, *fresh] if higher else fresh, now)
            return "updated"
        if not fresh and f.case_ids:
            return "unchanged"
        if not f.case_ids and last["window_end"] >= w.end:
            return "unchanged"
    alert_id = deps.ids.new_id("ral")
    new = NewAlert(
        alert_id, mid, f.rule, f.subject_kind, f.subject_id, f.severity, w.start, w.end, f.evidence(), f.case_ids, now
    )
    uow.risk.add_alert(new)
    record(uow, actor, mid, "risk.alert_raised", now, alert_id=alert_id, rule=f.rule, severity=f.severity)
    if f.severity == HIGH:
        hold_cases(uow, actor, mid, alert_id, f.case_ids, now)
    return "raised"


def list_alerts(deps: Deps, actor: Actor, query: AlertQuery) -> tuple[list[AlertRow], int]:
    actor.require("risk.read")
    for value, allowed in ((query.status, tuple(A)), (query.severity, SEVERITIES), (query.rule, tuple(BY_CODE))):
        if value is not None and value not in allowed:
            raise Invalid("risk.invalid_filter", value=str(value)[:40])
    with deps.uow(readonly=True) as uow:
        return uow.risk.list_alerts(actor.merchant_id or "", query)


def get_alert(deps: Deps, actor: Actor, alert_id: str) -> dict[str, Any]:
    """One alert with its rule's explanation and its cases."""
    actor.require("risk.read")
    with deps.uow(readonly=True) as uow:
        row = uow.risk.get_alert(actor.merchant_id or "", alert_id)
        if row is None:
            raise NotFound("risk.alert_not_found")
        return detail(row, uow.risk.alert_cases(alert_id))


def detail(row: AlertRow, case_ids: list[str]) -> dict[str, Any]:
    rule = BY_CODE[row["rule"]]
    return {**row, "case_ids": case_ids, "title": list(rule.title), "explain": list(rule.explain)}


@dataclass(frozen=True)
class Decision:
    status: str
    reason: str = ""
    assign_to: str | None = None


def _work(
    deps: Deps, actor: Actor, alert_id: str, step: Callable[[UnitOfWork, AlertRow, datetime], None]
) -> dict[str, Any]:
    """One step of a person on an alert of their own merchant, in one transaction; answered with the alert."""
    actor.require("risk.decide")
    mid = actor.merchant_id or ""
    with deps.uow() as uow:
        step(uow, _alert_for_update(uow, mid, alert_id), deps.clock.now())
        uow.commit()
        return detail(_alert_for_update(uow, mid, alert_id), uow.risk.alert_cases(alert_id))


def _update(uow: UnitOfWork, row: AlertRow, **values: Any) -> None:
    if not uow.risk.update_alert(row["merchant_id"], row["id"], row["version"], **values):
        raise Conflict("risk.alert_changed")


def decide(deps: Deps, actor: Actor, alert_id: str, decision: Decision) -> dict[str, Any]:
    """Move an alert on: investigating, confirmed or dismissed (a dismissal says why); optionally assign it."""
    actor.require("risk.decide")
    if decision.status not in tuple(A) or decision.status == A.NEW:
        raise Invalid("risk.invalid_decision", status=str(decision.status)[:20])
    reason = decision.reason.strip()
    if decision.status == A.DISMISSED and not reason:
        raise Invalid("risk.reason_required")
    if len(reason) > MAX_REASON:
        raise Invalid("risk.reason_too_long", max=MAX_REASON)

    def step(uow: UnitOfWork, row: AlertRow, now: datetime) -> None:
        before, target = A(row["status"]), A(decision.status)
        check_step(TRANSITIONS, before, target, "risk.invalid_transition")
        values: dict[str, Any] = {"status": target.value, "updated_at": now}
        if target in (A.CONFIRMED, A.DISMISSED):
            values.update(decided_by=actor.id, decided_at=now, decision_reason=reason)
        if decision.assign_to is not None:
            values["assigned_to"] = _assignee(uow, row["merchant_id"], decision.assign_to)
        _update(uow, row, **values)
        assigned = values.get("assigned_to", row["assigned_to"])
        record(
            uow,
            actor,
            row["merchant_id"],
            "risk.alert_decided",
            now,
            reason=reason,
            before=before.value,
            after=target.value,
            alert_id=row["id"],
            rule=row["rule"],
            assigned_to=assigned,
        )

    return _work(deps, actor, alert_id, step)


def assign(deps: Deps, actor: Actor, alert_id: str, user_id: str) -> dict[str, Any]:
    def step(uow: UnitOfWork, row: AlertRow, now: datetime) -> None:
        who = _assignee(uow, row["merchant_id"], user_id)
        _update(uow, row, assigned_to=who, updated_at=now)
        record(
            uow,
            actor,
            row["merchant_id"],
            "risk.alert_assigned",
            now,
            alert_id=row["id"],
            before_user=row["assigned_to"],
            user=who,
        )

    return _work(deps, actor, alert_id, step)


def link_case(deps: Deps, actor: Actor, alert_id: str, case_id: str) -> dict[str, Any]:
    """A person links a refund case found while investigating (of this merchant only)."""

    def step(uow: UnitOfWork, row: AlertRow, now: datetime) -> None:
        if uow.refunds.get_case(row["merchant_id"], case_id) is None:
            raise NotFound("refund.not_found")
        if uow.risk.link_cases(row["id"], [case_id], actor.id):
            record(uow, actor, row["merchant_id"], "risk.case_linked", now, case_id=case_id, alert_id=row["id"])

    return _work(deps, actor, alert_id, step)


def _alert_for_update(uow: UnitOfWork, merchant_id: str, alert_id: str) -> AlertRow:
    row = uow.risk.get_alert(merchant_id, alert_id, for_update=True)
    if row is None:
        raise NotFound("risk.alert_not_found")
    return row


def _assignee(uow: UnitOfWork, merchant_id: str, user_id: str) -> str:
    """An alert goes to a person of this merchant (another merchant's user looks like nobody), or to nobody."""
    if user_id == "":
        return ""
    user = uow.users.get_user(user_id)
    if user is None or user["merchant_id"] != merchant_id:
        raise NotFound("user.not_found")
    return user_id


def rules_view(deps: Deps, actor: Actor) -> dict[str, Any]:
    """Every rule: what it looks for, its effective settings, the defaults, and its confirmed/dismissed counts."""
    actor.require("risk.read")
    with deps.uow(readonly=True) as uow:
        stored = uow.risk.get_settings(actor.merchant_id or "")
        counts = uow.risk.feedback(actor.merchant_id or "")
    effective = merge(stored)
    return {"rules": [_rule_view(r.code, effective[r.code], counts.get(r.code, {})) for r in RULES]}


def _rule_view(code: str, settings: dict[str, Any], counts: dict[str, int]) -> dict[str, Any]:
    rule = BY_CODE[code]
    return {
        "code": code,
        "subject": rule.subject,
        "title": list(rule.title),
        "explain": list(rule.explain),
        "settings": settings,
        "defaults": {p.name: p.default for p in rule.params},
        "feedback": {s.value: counts.get(s.value, 0) for s in A},
    }


def put_rules(deps: Deps, actor: Actor, document: Any) -> dict[str, Any]:
    """Replace the merchant's overrides (what is left out takes the default); audited with before and after."""
    actor.require("risk.configure")
    settings = check_settings(document)
    mid = actor.merchant_id or ""
    now = deps.clock.now()
    with deps.uow() as uow:
        before = uow.risk.get_settings(mid) or {}
        version = uow.risk.put_settings(mid, settings, actor.id, now)
        record(uow, actor, mid, "risk.rules_changed", now, old=before, new=settings, version=version)
        uow.commit()
    return rules_view(deps, actor)
