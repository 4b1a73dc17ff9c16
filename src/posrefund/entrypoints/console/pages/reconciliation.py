"""Reconciliation (对账) and wrong charges (错收) in the console: import a settlement file and run a
reconciliation with visible progress, the runs, a run's totals with a chart and its discrepancies (filtered,
paged, CSV), and from a discrepancy the wrong-charge case or the recovery of a refund the channel paid.

Every rule is the service's (``service.reconciliation``, ``service.wrong_charges``); this module reads forms
by shape, places errors beside their fields and renders."""

from __future__ import annotations

import csv
import io
import shutil
import tempfile
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from starlette.datastructures import UploadFile
from starlette.responses import RedirectResponse, Response, StreamingResponse

from posrefund.adapters.settlement import open_settlement_file
from posrefund.domain.errors import DomainError, Forbidden, Invalid, NotFound
from posrefund.domain.policy import EvidenceKind
from posrefund.domain.reconciliation import (
    DEFAULT_DUPLICATE_WINDOW_SECONDS,
    Cause,
    ContactMethod,
    DiscrepancyClass,
    Responsible,
    Source,
    check_range,
)
from posrefund.entrypoints.api.routers.reconciliation import MAX_UPLOAD
from posrefund.entrypoints.console import fmt
from posrefund.entrypoints.console.charts import bars
from posrefund.entrypoints.console.jobs import Job, Jobs
from posrefund.entrypoints.console.texts import label
from posrefund.entrypoints.console.web import PREFIX, ConsoleRoute, Errors, actor_of, ctx_of, lang_of, render
from posrefund.i18n import message
from posrefund.service import evidence, reconciliation, refunds, sales, wrong_charges
from posrefund.service.reconciliation import lists
from posrefund.service.refunds import CustomerInput

router = APIRouter(prefix=PREFIX + "/recon", route_class=ConsoleRoute, include_in_schema=False)
PAGE = 50
RUNS_PAGE = 20
POLL_SECONDS = 1
SOURCES = [s.value for s in Source]
CLASSES = [c.value for c in DiscrepancyClass]
MAX_EVIDENCE = 5


def _jobs(request: Request) -> Jobs:
    jobs = getattr(request.app.state, "recon_jobs", None)
    if jobs is None:
        jobs = request.app.state.recon_jobs = Jobs()
    assert isinstance(jobs, Jobs)
    return jobs


def _page_no(text: str, errors: Errors) -> int:
    if not text:
        return 1
    try:
        return fmt.parse_count(text[:12], "page", low=1, high=1_000_000)
    except DomainError as err:
        errors.form.append(message(err.code, errors.lang, err.params))  # no page field: said above the list
        return 1


# ---- home: import, run, the runs ---------------------------------------------------------------------------
async def _home(request: Request, status: int = 200, **extra: Any) -> Response:
    actor = actor_of(request)
    actor.require("recon.read")
    c = ctx_of(request)
    errors: Errors = extra.pop("errors", None) or Errors(lang_of(request))
    page = _page_no(request.query_params.get("page", ""), errors)
    runs, total = await c.run(lists.list_runs, c.deps, actor, RUNS_PAGE, (page - 1) * RUNS_PAGE)
    files = await c.run(lists.list_files, c.deps, actor, 10)
    today = c.deps.local_date(c.deps.clock.now())
    form = {
        "source": "card",
        "date_from": (today - timedelta(days=1)).isoformat(),
        "date_to": (today - timedelta(days=1)).isoformat(),
        "window_minutes": str(DEFAULT_DUPLICATE_WINDOW_SECONDS // 60),
    } | extra.pop("form", {})
    return render(
        request,
        "reconciliation.html",
        status,
        runs=runs,
        total=total,
        page=page,
        pages=max(1, -(-total // RUNS_PAGE)),
        files=files,
        sources=SOURCES,
        form=form,
        import_source=extra.pop("import_source", "card"),
        errors=errors,
        **extra,
    )


@router.get("")
async def home(request: Request) -> Response:
    return await _home(request)


def _choice(value: str, allowed: list[str], name: str) -> str:
    if value not in allowed:
        raise Invalid("console.invalid_choice", field=name)
    return value


@router.post("/import")
async def start_import(request: Request) -> Response:
    actor = actor_of(request)
    actor.require("recon.import")
    c = ctx_of(request)
    form = await request.form()
    source = str(form.get("source") or "")
    upload = form.get("file")
    errors = Errors(lang_of(request))
    try:
        _choice(source, SOURCES, "source")
    except DomainError as err:
        errors.add(err)
    if not isinstance(upload, UploadFile) or not upload.filename:
        errors.fields["file"] = _msg(request, Invalid("recon.file_required"))
    if errors:
        return await _home(request, 422, errors=errors, import_source=source)
    assert isinstance(upload, UploadFile)
    tmp = Path(tempfile.mkdtemp(prefix="posrefund-console-settlement-"))
    path = tmp / "upload"
    size = newlines = 0
    last = b""
    try:
        with open(path, "wb") as out:
            while chunk := await upload.read(1 << 20):
                size += len(chunk)
                if size > MAX_UPLOAD:
                    raise Invalid("recon.file_too_large", max_bytes=MAX_UPLOAD, field="file")
                newlines += chunk.count(b"\n")
                last = chunk[-1:]
                out.write(chunk)
        if size == 0:
            raise Invalid("recon.file_empty", field="file")
    except DomainError as err:
        shutil.rmtree(tmp, ignore_errors=True)
        errors.add(err)
        return await _home(request, 422, errors=errors, import_source=source)
    name = "".join(ch for ch in (upload.filename or "upload") if ch.isprintable())[:200] or "upload"
    lines = newlines + (1 if last not in (b"\n", b"") else 0)

    def work(job: Job) -> reconciliation.ImportReport:
        settlement = open_settlement_file(source, path, filename=name)
        return reconciliation.import_file(c.deps, actor, **settlement.import_arguments(), progress=job.tick)

    job = _jobs(request).start(
        actor,
        "import",
        work,
        total_lines=lines,
        cleanup=lambda: shutil.rmtree(tmp, ignore_errors=True),
        source=source,
        filename=name,
    )
    return RedirectResponse(f"{PREFIX}/recon/jobs/{job.id}", status_code=303)


@router.post("/run")
async def start_run(request: Request) -> Response:
    actor = actor_of(request)
    actor.require("recon.run")
    c = ctx_of(request)
    form = await request.form()
    text = {k: str(form.get(k) or "")[:40] for k in ("source", "date_from", "date_to", "window_minutes")}
    errors = Errors(lang_of(request))
    days: dict[str, date] = {}
    window = DEFAULT_DUPLICATE_WINDOW_SECONDS
    try:
        _choice(text["source"], SOURCES, "source")
    except DomainError as err:
        errors.add(err)
    for name in ("date_from", "date_to"):
        try:
            days[name] = fmt.parse_date(text[name], name)
        except DomainError as err:
            errors.add(err)
    if text["window_minutes"].strip():
        try:
            window = fmt.parse_count(text["window_minutes"], "window_minutes", high=7 * 24 * 60) * 60
        except DomainError as err:
            errors.add(err)
    if len(days) == 2:
        try:
            check_range(days["date_from"], days["date_to"])
        except DomainError as err:
            errors.add(err, {"request.bad_range": "date_to", "recon.range_too_long": "date_to"})
    if errors:
        return await _home(request, 422, errors=errors, form=text)

    def work(_job: Job) -> dict[str, Any]:
        return reconciliation.reconcile(
            c.deps,
            actor,
            source=text["source"],
            date_from=days["date_from"],
            date_to=days["date_to"],
            window_seconds=window,
        )

    job = _jobs(request).start(
        actor, "run", work, source=text["source"], date_from=text["date_from"], date_to=text["date_to"]
    )
    return RedirectResponse(f"{PREFIX}/recon/jobs/{job.id}", status_code=303)


# ---- progress ----------------------------------------------------------------------------------------------
@router.get("/jobs/{job_id}")
async def job_page(request: Request, job_id: str) -> Response:
    actor = actor_of(request)
    actor.require("recon.read")
    job = _jobs(request).get(actor, job_id[:40])
    return render(request, "recon_job.html", job=job, poll_seconds=POLL_SECONDS)


@router.get("/jobs/{job_id}/progress")
async def job_progress(request: Request, job_id: str) -> Response:
    actor = actor_of(request)
    actor.require("recon.read")
    job = _jobs(request).get(actor, job_id[:40])
    return render(request, "recon_job_progress.html", job=job, poll_seconds=POLL_SECONDS)


@router.get("/files/{file_id}")
async def file_page(request: Request, file_id: str) -> Response:
    actor = actor_of(request)
    c = ctx_of(request)
    row = await c.run(reconciliation.get_file, c.deps, actor, file_id[:64], 1_000)
    return render(request, "recon_file.html", file=row)


# ---- a run -------------------------------------------------------------------------------------------------
def _class_filter(request: Request, errors: Errors) -> str:
    cls = request.query_params.get("class", "")[:40]
    if cls and cls not in CLASSES:
        errors.fields["class"] = _msg(request, Invalid("console.invalid_choice"))
        return ""
    return cls


@router.get("/runs/{run_id}")
async def run_page(request: Request, run_id: str) -> Response:
    actor = actor_of(request)
    c = ctx_of(request)
    lang = lang_of(request)
    errors = Errors(lang)
    run_id = run_id[:64]
    run = await c.run(reconciliation.get_run, c.deps, actor, run_id)
    cls = _class_filter(request, errors)
    page = _page_no(request.query_params.get("page", ""), errors)
    rows, total = await c.run(
        reconciliation.list_discrepancies, c.deps, actor, run_id, cls or None, PAGE, (page - 1) * PAGE
    )
    sums = await c.run(lists.class_sums, c.deps, actor, run_id)
    zero = {"count": 0, "ours_fen": 0, "theirs_fen": 0}
    by_class = [(k, sums.get(k, zero)) for k in CLASSES]
    chart = bars([(label("discrepancy", k, lang), v["count"]) for k, v in by_class], title=_title(lang))
    return render(
        request,
        "recon_run.html",
        run=run,
        rows=rows,
        total=total,
        cls=cls,
        classes=CLASSES,
        by_class=by_class,
        chart=chart,
        page=page,
        pages=max(1, -(-total // PAGE)),
        errors=errors,
    )


def _title(lang: str) -> str:
    return "Open discrepancies by class" if lang == "en" else "各类差错笔数"


CSV_HEADER = [
    "discrepancy_id",
    "class",
    "class_label",
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
    "ours",
    "theirs_fen",
    "theirs",
    "ours_status",
    "theirs_status",
    "resolution",
    "wrong_charge_id",
]


def _safe_cell(value: Any) -> str:
    """Spreadsheet programs run cells that start with = + - @: such text is quoted with a leading '."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _csv_row(d: dict[str, Any], lang: str) -> list[str]:
    ours, theirs = d.get("ours_fen"), d.get("theirs_fen")
    values = [
        d["id"],
        d["class"],
        label("discrepancy", d["class"], lang),
        d.get("line_no"),
        d.get("kind"),
        fmt.local(d.get("occurred_at"), True),
        d.get("terminal_no"),
        d.get("voucher_no"),
        d.get("rrn"),
        d.get("merchant_order_no"),
        d.get("merchant_refund_no"),
        d.get("payer_masked"),
        d.get("sale_id"),
        d.get("refund_id"),
        ours,
        fmt.yuan_input(ours) if ours is not None else "",
        theirs,
        fmt.yuan_input(theirs) if theirs is not None else "",
        d.get("ours_status"),
        d.get("theirs_status"),
        d.get("resolution"),
        d.get("wrong_charge_id"),
    ]
    return [_safe_cell(v) for v in values]


@router.get("/runs/{run_id}/export.csv")
async def export(request: Request, run_id: str) -> Response:
    actor = actor_of(request)
    c = ctx_of(request)
    lang = lang_of(request)
    run_id = run_id[:64]
    cls = _class_filter(request, Errors(lang))
    found = await c.run(reconciliation.export_discrepancies, c.deps, actor, run_id, cls or None)

    async def body() -> AsyncIterator[str]:
        buf = io.StringIO()
        buf.write("\ufeff")  # a byte-order mark, so spreadsheet programs read the Chinese as UTF-8
        out = csv.writer(buf)
        out.writerow(CSV_HEADER)
        while True:
            chunk = await c.run(_take, found, 500)
            for d in chunk:
                out.writerow(_csv_row(d, lang))
            yield buf.getvalue()
            buf.seek(0)
            buf.truncate()
            if len(chunk) < 500:
                return

    name = f"reconciliation-{run_id}{'-' + cls if cls else ''}.csv"
    return StreamingResponse(
        body(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _take(rows: Any, n: int) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for d in rows:
        out.append(d)
        if len(out) >= n:
            break
    return out


# ---- a discrepancy -----------------------------------------------------------------------------------------
def _discrepancy_id(text: str) -> int:
    """A discrepancy id is a number; anything else names no discrepancy (404, as for another merchant's)."""
    if not text.isascii() or not text.isdigit() or len(text) > 18:
        raise NotFound("recon.discrepancy_not_found")
    return int(text)


async def _discrepancy_page(request: Request, discrepancy_id: str, status: int = 200, **extra: Any) -> Response:
    actor = actor_of(request)
    c = ctx_of(request)
    did = _discrepancy_id(discrepancy_id)
    d = await c.run(reconciliation.get_discrepancy, c.deps, actor, did)
    sale = await c.run(sales.get_sale, c.deps, actor, str(d["sale_id"])) if d["sale_id"] else None
    refund = await c.run(refunds.get_case, c.deps, actor, str(d["refund_id"])) if d["refund_id"] else None
    recoverable = (
        d["class"] == DiscrepancyClass.REFUND_STATUS_MISMATCH.value
        and d["theirs_status"] == "SUCCESS"
        and not d["resolution"]
        and d["cleared_at"] is None
    )
    form = {"cause": "unknown", "responsible": "unknown", "analysis": ""} | extra.pop("form", {})
    return render(
        request,
        "recon_discrepancy.html",
        status,
        d=d,
        line=d["line"],
        sale=sale,
        refund=refund.case if refund else None,
        recoverable=recoverable,
        causes=[x.value for x in Cause],
        responsibles=[x.value for x in Responsible],
        kinds=[k.value for k in EvidenceKind],
        form=form,
        errors=extra.pop("errors", None) or Errors(lang_of(request)),
        recover_reason=extra.pop("recover_reason", ""),
        **extra,
    )


@router.get("/discrepancies/{discrepancy_id}")
async def discrepancy_page(request: Request, discrepancy_id: str) -> Response:
    return await _discrepancy_page(request, discrepancy_id)


async def _upload_evidence(request: Request, form: Any, errors: Errors) -> list[str]:
    """Files attached to a wrong-charge form, uploaded through ``service.evidence`` (kind and type checked
    there). A refused file is an error beside the file field; nothing else of the form is written then."""
    actor = actor_of(request)
    c = ctx_of(request)
    files = [f for f in form.getlist("evidence") if isinstance(f, UploadFile) and f.filename][:MAX_EVIDENCE]
    kind = str(form.get("evidence_kind") or "receipt")
    ids: list[str] = []
    if files and kind not in [k.value for k in EvidenceKind]:
        errors.fields["evidence"] = _msg(request, Invalid("console.invalid_choice"))
        return ids
    # Checked before anything is stored, so a refused file leaves no orphan upload of its neighbours.
    contents = [(f, await f.read(evidence.MAX_BYTES + 1)) for f in files]
    for f, content in contents:
        try:
            row = await c.run(evidence.upload, c.deps, actor, content=content, filename=f.filename or "", kind=kind)
        except DomainError as err:
            errors.fields.setdefault("evidence", _msg(request, err))
            return ids
        ids.append(str(row["id"]))
    return ids


def _analysis_form(form: Any, lang: str) -> tuple[dict[str, str], Errors]:
    """A wrong-charge case's cause, responsible party and analysis, each checked, errors beside the field."""
    text = {k: str(form.get(k) or "") for k in ("cause", "responsible", "analysis")}
    errors = Errors(lang)
    for name, allowed in (("cause", [x.value for x in Cause]), ("responsible", [x.value for x in Responsible])):
        try:
            _choice(text[name], allowed, name)
        except DomainError as err:
            errors.add(err)
    try:
        fmt.bounded(text["analysis"], "analysis", wrong_charges.MAX_TEXT)
    except DomainError as err:
        errors.add(err)
    return text, errors


@router.post("/discrepancies/{discrepancy_id}/wrong-charge")
async def open_wrong_charge(request: Request, discrepancy_id: str) -> Response:
    actor = actor_of(request)
    actor.require("recon.case")
    c = ctx_of(request)
    form = await request.form()
    text, errors = _analysis_form(form, lang_of(request))
    # the discrepancy must be ours before any file is stored for it
    await c.run(reconciliation.get_discrepancy, c.deps, actor, _discrepancy_id(discrepancy_id))
    ids: list[str] = []
    if not errors:
        ids = await _upload_evidence(request, form, errors)
    if errors:
        return await _discrepancy_page(request, discrepancy_id, 422, errors=errors, form=text)
    try:
        wc = await c.run(
            wrong_charges.open_case,
            c.deps,
            actor,
            _discrepancy_id(discrepancy_id),
            cause=text["cause"],
            responsible=text["responsible"],
            analysis=text["analysis"],
            evidence_ids=ids,
        )
    except DomainError as err:
        if err.code not in ("recon.invalid_field", "pii.card_number", "request.field_too_long"):
            raise
        errors.add(err)
        return await _discrepancy_page(request, discrepancy_id, 422, errors=errors, form=text)
    return RedirectResponse(f"{PREFIX}/recon/wrong-charges/{wc['id']}", status_code=303)


@router.post("/discrepancies/{discrepancy_id}/recover")
async def recover(request: Request, discrepancy_id: str) -> Response:
    actor = actor_of(request)
    actor.require("recon.correct")
    c = ctx_of(request)
    form = await request.form()
    reason = str(form.get("reason") or "")
    errors = Errors(lang_of(request))
    did = _discrepancy_id(discrepancy_id)
    try:
        fmt.bounded(reason, "reason", 500)
    except DomainError as err:
        errors.add(err)
        return await _discrepancy_page(request, discrepancy_id, 422, errors=errors, recover_reason=reason)
    try:
        case = await c.run(reconciliation.recover_refund, c.deps, actor, did, reason)
    except DomainError as err:
        if err.code != "pii.card_number":
            raise
        errors.add(err, {"pii.card_number": "reason"})
        return await _discrepancy_page(request, discrepancy_id, 422, errors=errors, recover_reason=reason)
    return RedirectResponse(f"{PREFIX}/cases/{case.id}", status_code=303)


# ---- a wrong-charge case -----------------------------------------------------------------------------------
async def _wrong_charge_page(request: Request, wc_id: str, status: int = 200, **extra: Any) -> Response:
    actor = actor_of(request)
    c = ctx_of(request)
    wc = await c.run(wrong_charges.get_case, c.deps, actor, wc_id[:64])
    d = await c.run(reconciliation.get_discrepancy, c.deps, actor, int(wc["discrepancy_id"]))
    sale = await c.run(sales.get_sale, c.deps, actor, str(wc["sale_id"])) if wc["sale_id"] else None
    refund = (
        await c.run(refunds.get_case, c.deps, actor, str(wc["correction_refund_id"]))
        if wc["correction_refund_id"]
        else None
    )
    files = await c.run(evidence.list_for, c.deps, actor, wc["evidence_ids"])
    lang = lang_of(request)
    form = {
        "cause": wc["cause"],
        "responsible": wc["responsible"],
        "analysis": wc["analysis"],
        "contact_method": "phone",
        "contact_note": "",
        "amount": "",  # empty: the amount the service computes (the duplicate, or what was taken beyond ours)
        "phone": "",
        "name": "",
        "note": "",
    } | extra.pop("form", {})
    return render(
        request,
        "wrong_charge.html",
        status,
        wc=wc,
        d=d,
        line=d["line"],
        sale=sale,
        refund=refund.case if refund else None,
        files=files,
        causes=[x.value for x in Cause],
        responsibles=[x.value for x in Responsible],
        methods=[x.value for x in ContactMethod],
        kinds=[k.value for k in EvidenceKind],
        events=wc["events"],
        form=form,
        errors=extra.pop("errors", None) or Errors(lang),
        **extra,
    )


@router.get("/wrong-charges/{wc_id}")
async def wrong_charge_page(request: Request, wc_id: str) -> Response:
    return await _wrong_charge_page(request, wc_id)


@router.post("/wrong-charges/{wc_id}/update")
async def update_wrong_charge(request: Request, wc_id: str) -> Response:
    actor = actor_of(request)
    actor.require("recon.case")
    c = ctx_of(request)
    await c.run(wrong_charges.get_case, c.deps, actor, wc_id[:64])  # ours, before any file is stored
    form = await request.form()
    text, errors = _analysis_form(form, lang_of(request))
    ids: list[str] = []
    if not errors:
        ids = await _upload_evidence(request, form, errors)
    if not errors:
        try:
            await c.run(
                wrong_charges.update_case,
                c.deps,
                actor,
                wc_id[:64],
                cause=text["cause"],
                responsible=text["responsible"],
                analysis=text["analysis"],
                evidence_ids=ids or None,
            )
        except DomainError as err:
            if err.code not in ("recon.invalid_field", "pii.card_number", "request.field_too_long"):
                raise
            errors.add(err)
    if errors:
        return await _wrong_charge_page(request, wc_id, 422, errors=errors, form=text)
    return RedirectResponse(f"{PREFIX}/recon/wrong-charges/{wc_id[:64]}", status_code=303)


@router.post("/wrong-charges/{wc_id}/contact")
async def contact(request: Request, wc_id: str) -> Response:
    actor = actor_of(request)
    actor.require("recon.case")
    c = ctx_of(request)
    form = await request.form()
    text = {k: str(form.get(k) or "") for k in ("contact_method", "contact_note")}
    errors = Errors(lang_of(request))
    try:
        _choice(text["contact_method"], [x.value for x in ContactMethod], "contact_method")
        fmt.bounded(text["contact_note"], "contact_note", wrong_charges.MAX_TEXT)
        if not text["contact_note"].strip():
            raise Invalid("recon.note_required", field="contact_note")
        await c.run(
            wrong_charges.update_case,
            c.deps,
            actor,
            wc_id[:64],
            contact_method=text["contact_method"],
            contact_note=text["contact_note"],
        )
    except DomainError as err:
        if err.code not in ("console.invalid_choice", "console.too_long", "recon.note_required", "pii.card_number"):
            raise
        errors.add(err, {"pii.card_number": "contact_note"})
        return await _wrong_charge_page(request, wc_id, 422, errors=errors, form=text)
    return RedirectResponse(f"{PREFIX}/recon/wrong-charges/{wc_id[:64]}", status_code=303)


CORRECTION_FIELDS = {
    "console.invalid_amount": "amount",
    "recon.amount_required": "amount",
    "refund.exceeds_refundable": "amount",
    "refund.amount_not_positive": "amount",
    "pii.invalid_phone": "phone",
    "recon.no_sale": "amount",
}


@router.post("/wrong-charges/{wc_id}/correction")
async def correction(request: Request, wc_id: str) -> Response:
    actor = actor_of(request)
    actor.require("recon.correct")
    c = ctx_of(request)
    form = await request.form()
    text = {k: str(form.get(k) or "") for k in ("amount", "phone", "name", "note")}
    errors = Errors(lang_of(request))
    try:
        amount = fmt.parse_yuan(text["amount"], "amount") if text["amount"].strip() else None
        fmt.bounded(text["phone"], "phone", 32)
        fmt.bounded(text["name"], "name", 50)
        fmt.bounded(text["note"], "note", 300)
        customer = CustomerInput(phone=text["phone"].strip() or None, name=text["name"].strip() or None)
        await c.run(
            wrong_charges.start_correction,
            c.deps,
            actor,
            wc_id[:64],
            amount_fen=amount,
            customer=customer,
            note=text["note"],
        )
    except (NotFound, Forbidden):
        raise
    except DomainError as err:  # refused by shape, by the service or by the refund policy: said on the form
        raw = err.params.get("rules")
        for rule in raw if isinstance(raw, list) and raw else []:
            errors.form.append(message(str(rule["code"]), lang_of(request), dict(rule.get("params") or {})))
        if not errors:
            errors.add(err, CORRECTION_FIELDS)
        status = 422 if isinstance(err, Invalid) else 409
        return await _wrong_charge_page(request, wc_id, status, errors=errors, form=text)
    return RedirectResponse(f"{PREFIX}/recon/wrong-charges/{wc_id[:64]}", status_code=303)


def _msg(request: Request, err: DomainError) -> str:
    return message(err.code, lang_of(request), err.params)
