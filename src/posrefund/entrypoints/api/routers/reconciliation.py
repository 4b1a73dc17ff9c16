"""Reconciliation (对账) and wrong charges (错收): import a settlement file, run, read the totals and the
discrepancies (JSON pages or CSV), recover a lost refund, open a wrong-charge case and start its correction.

The console page calls these same routes (or the same service functions) for its run totals and list."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi import Path as FastPath
from fastapi.responses import JSONResponse, StreamingResponse

from posrefund.domain.reconciliation import FeeRate
from posrefund.entrypoints.api.context import Ctx, CurrentActor
from posrefund.entrypoints.api.observability import timed_reconciliation
from posrefund.entrypoints.api.paging import Paging, paging
from posrefund.entrypoints.api.responses import SIGNED_IN, WITH_BODY, RefundOut, answers
from posrefund.entrypoints.api.responses_recon import (
    Correction,
    DiscrepancyPage,
    DiscrepancyWithLine,
    FeeRateList,
    Run,
    WrongCharge,
    WrongChargeCase,
)
from posrefund.entrypoints.api.responses_recon import FeeRate as FeeRateOut
from posrefund.entrypoints.api.schemas_recon import (
    CorrectionIn,
    FeeRateIn,
    RecoverIn,
    RunIn,
    WrongChargeIn,
    WrongChargeUpdateIn,
)
from posrefund.entrypoints.api.views import iso, plain, refund_view
from posrefund.entrypoints.csv_export import csv_response
from posrefund.service import reconciliation, wrong_charges
from posrefund.service.refunds import CustomerInput

router = APIRouter(prefix="/v1/reconciliation", tags=["reconciliation"])
ON_OBJECT = (*SIGNED_IN, 404)
STEP = (*ON_OBJECT, *WITH_BODY, 409)
MAX_UPLOAD = 12 * 1024 * 1024  # the API's body cap; larger files go through `posrefund reconcile FILE`


DiscrepancyId = Annotated[int, FastPath(ge=1, le=2**62)]


def _run(run: dict[str, Any]) -> dict[str, Any]:
    return {
        **run,
        "date_from": run["date_from"].isoformat(),
        "date_to": run["date_to"].isoformat(),
        "created_at": iso(run["created_at"]),
        "stale_at": iso(run.get("stale_at")),
    }


def _discrepancy(d: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": d["id"],
        "run_id": d["run_id"],
        "class": d["class"],
        "line_id": d["line_id"] or None,
        "sale_id": d["sale_id"] or None,
        "refund_id": d["refund_id"] or None,
        "duplicate_of_line_id": d["other_line_id"] or None,
        "ours_fen": d["ours_fen"],
        "theirs_fen": d["theirs_fen"],
        "ours_status": d["ours_status"] or None,
        "theirs_status": d["theirs_status"] or None,
        "found_at": iso(d["found_at"]),
        "cleared_at": iso(d["cleared_at"]),
        "resolution": d["resolution"] or None,
        "wrong_charge_id": d["wrong_charge_id"] or None,
    }


def _wrong_charge(wc: Mapping[str, Any]) -> dict[str, Any]:
    out = plain({k: v for k, v in wc.items() if k not in ("events", "discrepancy", "merchant_id")})
    if "discrepancy" in wc and wc["discrepancy"] is not None:
        out["discrepancy"] = _discrepancy(wc["discrepancy"])
    if "events" in wc:
        out["events"] = [plain(e) for e in wc["events"]]
    return out


@router.post(
    "/runs",
    summary="Reconcile a source over dates",
    **answers(
        Run,
        *SIGNED_IN,
        *WITH_BODY,
        404,
        409,
        status=201,
        description="a new run",
        again="the same run again, re-checked",
        permission="recon.run",
    ),
)
async def run(body: RunIn, actor: CurrentActor, c: Ctx, request: Request) -> JSONResponse:
    actor.require("recon.run")
    kwargs: dict[str, Any] = {
        "source": body.source,
        "date_from": body.date_from,
        "date_to": body.date_to,
        "file_ids": body.file_ids,
        "window_seconds": body.window_seconds,
        "is_workday": c.router.is_workday,
    }
    with timed_reconciliation(request.app, body.source):
        result = await c.run_once(reconciliation.reconcile, c.deps, actor, **kwargs)
    return JSONResponse(_run(result), status_code=201 if result["created"] else 200)


@router.get(
    "/runs/{run_id}",
    summary="A reconciliation run with its totals",
    **answers(Run, *ON_OBJECT, permission="recon.read"),
)
async def get_run(run_id: str, actor: CurrentActor, c: Ctx) -> dict[str, Any]:
    return _run(await c.run(reconciliation.get_run, c.deps, actor, run_id))


@router.get(
    "/runs/{run_id}/discrepancies",
    summary="A run's discrepancies (paged)",
    **answers(DiscrepancyPage, *ON_OBJECT, permission="recon.read"),
)
async def discrepancies(
    run_id: str,
    actor: CurrentActor,
    c: Ctx,
    pages: Annotated[Paging, Depends(paging(max_limit=500, max_offset=10**9))],
    cls: Annotated[str | None, Query(alias="class", max_length=32)] = None,
    include_cleared: bool = False,
) -> dict[str, Any]:
    rows, total = await c.run(
        reconciliation.list_discrepancies, c.deps, actor, run_id, cls, pages.limit, pages.offset, include_cleared
    )
    return pages.page([_discrepancy(d) for d in rows], total)


CSV_COLUMNS = [
    "id",
    "class",
    "line_no",
    "kind",
    "occurred_at",
    "terminal_no",
    "voucher_no",
    "rrn",
    "merchant_order_no",
    "merchant_refund_no",
    "payer_masked",
    "sale_id",
    "refund_id",
    "ours_fen",
    "theirs_fen",
    "ours_status",
    "theirs_status",
    "resolution",
    "wrong_charge_id",
]


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    return value.isoformat() if isinstance(value, datetime) else value


@router.get(
    "/runs/{run_id}/discrepancies.csv",
    summary="A run's discrepancies as CSV",
    response_class=StreamingResponse,
    **answers(
        None,
        *ON_OBJECT,
        media_type="text/csv",
        description="every discrepancy of the run, with its line",
        permission="recon.read",
    ),
)
async def discrepancies_csv(
    run_id: str,
    actor: CurrentActor,
    c: Ctx,
    cls: Annotated[str | None, Query(alias="class", max_length=32)] = None,
) -> StreamingResponse:
    rows = await c.run(reconciliation.export_discrepancies, c.deps, actor, run_id, cls)
    # The one CSV writer: a cell the settlement file filled cannot become a formula in finance's spreadsheet.
    return csv_response(
        CSV_COLUMNS, ([_cell(row.get(k)) for k in CSV_COLUMNS] for row in rows), f"reconciliation-{run_id}.csv"
    )


@router.get(
    "/discrepancies/{discrepancy_id}",
    summary="One discrepancy with its line",
    **answers(DiscrepancyWithLine, *ON_OBJECT, permission="recon.read"),
)
async def get_discrepancy(discrepancy_id: DiscrepancyId, actor: CurrentActor, c: Ctx) -> dict[str, Any]:
    d = await c.run(reconciliation.get_discrepancy, c.deps, actor, discrepancy_id)
    out = _discrepancy(d)
    out["line"] = plain(d["line"]) if d["line"] else None
    return out


@router.post(
    "/discrepancies/{discrepancy_id}/recover",
    summary="Recover a lost refund as succeeded",
    **answers(RefundOut, *STEP, permission="recon.correct"),
)
async def recover(discrepancy_id: DiscrepancyId, body: RecoverIn, actor: CurrentActor, c: Ctx) -> dict[str, Any]:
    case = await c.run(reconciliation.recover_refund, c.deps, actor, discrepancy_id, body.reason)
    return refund_view(case, None)


@router.post(
    "/discrepancies/{discrepancy_id}/wrong-charge",
    summary="Open a wrong-charge case",
    **answers(WrongCharge, *STEP, status=201, permission="recon.case"),
)
async def open_wrong_charge(
    discrepancy_id: DiscrepancyId, body: WrongChargeIn, actor: CurrentActor, c: Ctx
) -> dict[str, Any]:
    wc = await c.run(
        wrong_charges.open_case,
        c.deps,
        actor,
        discrepancy_id,
        cause=body.cause,
        responsible=body.responsible,
        analysis=body.analysis,
        evidence_ids=body.evidence_ids,
    )
    return _wrong_charge(wc)


@router.get(
    "/wrong-charges/{wc_id}",
    summary="A wrong-charge case",
    **answers(WrongChargeCase, *ON_OBJECT, permission="recon.read"),
)
async def get_wrong_charge(wc_id: str, actor: CurrentActor, c: Ctx) -> dict[str, Any]:
    return _wrong_charge(await c.run(wrong_charges.get_case, c.deps, actor, wc_id))


@router.patch(
    "/wrong-charges/{wc_id}",
    summary="Update a wrong-charge case",
    **answers(WrongCharge, *STEP, permission="recon.case"),
)
async def update_wrong_charge(wc_id: str, body: WrongChargeUpdateIn, actor: CurrentActor, c: Ctx) -> dict[str, Any]:
    wc = await c.run(wrong_charges.update_case, c.deps, actor, wc_id, **body.model_dump())
    return _wrong_charge(wc)


@router.post(
    "/wrong-charges/{wc_id}/correction",
    summary="Start the correction refund",
    **answers(Correction, *STEP, status=201, permission="recon.correct"),
)
async def start_correction(wc_id: str, body: CorrectionIn, actor: CurrentActor, c: Ctx) -> dict[str, Any]:
    customer = CustomerInput(phone=body.customer.phone, name=body.customer.name) if body.customer else None
    wc, case = await c.run(
        wrong_charges.start_correction,
        c.deps,
        actor,
        wc_id,
        amount_fen=body.amount_fen,
        customer=customer,
        note=body.note,
        by_channel_reference=body.by_channel_reference,
        terminal_id=body.terminal_id,
    )
    return {"wrong_charge": _wrong_charge(wc), "refund": refund_view(case, None)}


@router.get(
    "/fee-rates", summary="The merchant's fee rates", **answers(FeeRateList, *SIGNED_IN, permission="recon.read")
)
async def fee_rates(actor: CurrentActor, c: Ctx) -> dict[str, Any]:
    rates = await c.run(reconciliation.fee_rates, c.deps, actor)
    return {"items": [_rate(r) for r in rates]}


def _rate(r: FeeRate) -> dict[str, Any]:
    return dataclasses.asdict(r)


@router.put(
    "/fee-rates",
    summary="Set a channel's fee rate",
    **answers(FeeRateOut, *SIGNED_IN, *WITH_BODY, permission="recon.fee_rates"),
)
async def put_fee_rate(body: FeeRateIn, actor: CurrentActor, c: Ctx) -> dict[str, Any]:
    rate = await c.run(
        reconciliation.put_fee_rate, c.deps, actor, body.channel, body.rate_bp, body.large_rate_bp, body.large_from_fen
    )
    return _rate(rate)
