"""The audit browser (审计日志) for the merchant's auditors: every event of its trail, newest first, narrowed by
case, person, action and dates, a page at a time by cursor; and the check of the whole chain on demand."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from posrefund.adapters.db.repositories.audit import audit_fields
from posrefund.domain.errors import DomainError
from posrefund.entrypoints.console import fmt
from posrefund.entrypoints.console.form_errors import Errors
from posrefund.entrypoints.console.texts import LABELS
from posrefund.entrypoints.console.web import PREFIX, ConsoleRoute, allowed, lang_of, render
from posrefund.entrypoints.wording import message
from posrefund.ports import AuditEventRow, AuditQuery
from posrefund.service import admin, audit, audit_browse

router = APIRouter(prefix=PREFIX + "/audit", route_class=ConsoleRoute, include_in_schema=False)
FILTERS = ("case", "user", "action", "from", "to", "before")


def _query(values: dict[str, str], errors: Errors) -> AuditQuery:
    """The filters as typed; a bad date or cursor is told beside its field and left out."""
    kw: dict[str, Any] = {"actor_id": values["user"] or None, "action": values["action"] or None}
    with errors.catch():
        kw["at_from"] = fmt.day_start(fmt.parse_date(values["from"], "from")) if values["from"] else None
    with errors.catch():
        kw["at_to"] = fmt.day_after(fmt.parse_date(values["to"], "to")) if values["to"] else None
    with errors.catch():
        kw["before_id"] = fmt.parse_count(values["before"], "before", low=1) if values["before"] else None
    return AuditQuery(limit=audit_browse.PAGE, **kw)


def _details(row: AuditEventRow) -> list[tuple[str, str]]:
    """The event's recorded details as (name, value) lines for the page; nested values as compact JSON."""
    try:
        data = json.loads(row["data"] or "{}")
    except ValueError:
        return []
    if not isinstance(data, dict):
        return []
    return [(str(k), v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)) for k, v in data.items()]


async def page(request: Request, verdict: str = "", intact: bool | None = None) -> Response:
    actor, c = allowed(request, "audit.browse")
    q = request.query_params
    values = {k: q.get(k, "").strip()[:64] for k in FILTERS}
    errors = Errors(lang_of(request))
    query = _query(values, errors)
    rows: list[AuditEventRow] = []
    after: int | None = None
    with errors.catch({"audit.range_reversed": "to"}, only=("audit.range_reversed",)):
        rows, after = await c.run(audit_browse.browse, c.deps, actor, query, values["case"])
    names = await c.run(admin.staff_names, c.deps, actor)
    return render(
        request,
        "audit.html",
        values=values,
        rows=[(r, _details(r)) for r in rows],
        next_before=after,
        names=names,
        actions=sorted(LABELS["event"]),
        errors=errors,
        verdict=verdict,
        intact=intact,
    )


@router.get("")
async def audit_page(request: Request) -> Response:
    return await page(request)


@router.post("/verify")
async def verify_chain(request: Request) -> Response:
    """Recompute the merchant's chain against its signed checkpoints and say in words what was found."""
    actor, c = allowed(request, "audit.verify")
    lang = lang_of(request)
    try:
        report = await c.run(audit.verify, c.deps, actor, audit_fields)
    except DomainError as err:
        return await page(request, message(err.code, lang, err.params), None)
    if report.broken is None:
        counts: dict[str, object] = {
            "checked": report.checked,
            "checkpoints": report.checkpoints,
            "resumed": report.resumed,
            "signed": report.signed,
        }
        return await page(request, message("audit.ok", lang, counts), True)
    b = report.broken
    return await page(request, message(f"audit.{b.problem}", lang, {"seq": b.seq, "since": b.since}), False)
