"""Reconciliation (对账) in the console: import a settlement file and run a reconciliation with visible
progress, the runs, and a run's totals with a chart and its discrepancies (filtered, paged, CSV). A
discrepancy and what follows from it (recovery, the wrong-charge case) is ``wrong_charges.py``.

Every rule is the service's (``service.reconciliation``); this module reads forms by shape, places errors
beside their fields and renders."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Mapping
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from starlette.datastructures import UploadFile
from starlette.responses import RedirectResponse, Response

from posrefund.adapters.sales_table import read_sale_batches
from posrefund.adapters.settlement import open_settlement_file
from posrefund.adapters.tabular import is_xlsx
from posrefund.domain.errors import Invalid
from posrefund.domain.reconciliation import (
    DEFAULT_DUPLICATE_WINDOW_SECONDS,
    DiscrepancyClass,
    Source,
    check_range,
)
from posrefund.entrypoints.api.observability import timed_reconciliation
from posrefund.entrypoints.api.routers.reconciliation import CSV_COLUMNS, MAX_UPLOAD
from posrefund.entrypoints.console import fmt
from posrefund.entrypoints.console.charts import bars
from posrefund.entrypoints.console.form_errors import Errors
from posrefund.entrypoints.console.forms import page_number, paging, posted, signed_in
from posrefund.entrypoints.console.jobs import Job, Jobs
from posrefund.entrypoints.console.texts import label
from posrefund.entrypoints.console.web import PREFIX, ConsoleRoute, actor_of, allowed, lang_of, render
from posrefund.entrypoints.csv_export import csv_response, titled
from posrefund.entrypoints.mapping_files import card_mapping_named
from posrefund.service import reconciliation, sales_import
from posrefund.service.reconciliation import lists, mappings
from posrefund.service.sales import FIELD_RULES

router = APIRouter(prefix=PREFIX + "/recon", route_class=ConsoleRoute, include_in_schema=False)
PAGE = 50
RUNS_PAGE = 20
POLL_SECONDS = 1
SOURCES = [s.value for s in Source]
CLASSES = [c.value for c in DiscrepancyClass]


def _jobs(request: Request) -> Jobs:
    jobs = getattr(request.app.state, "recon_jobs", None)
    if jobs is None:
        jobs = request.app.state.recon_jobs = Jobs()
    assert isinstance(jobs, Jobs)
    return jobs


def _page_no(text: str, errors: Errors) -> int:
    """No page field on these lists: a bad page number is said above the list."""
    return page_number(text[:12], errors, last=1_000_000, place=errors.note)


# ---- home: import, run, the runs ---------------------------------------------------------------------------
async def _home(request: Request, status: int = 200, **extra: Any) -> Response:
    actor, c = allowed(request, "recon.read")
    errors: Errors = extra.pop("errors", None) or Errors(lang_of(request))
    page = _page_no(request.query_params.get("page", ""), errors)
    runs, total = await c.run(lists.list_runs, c.deps, actor, RUNS_PAGE, (page - 1) * RUNS_PAGE)
    files = await c.run(lists.list_files, c.deps, actor, 10)
    layouts = await c.run(mappings.list_mappings, c.deps, actor)
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
        **paging(page, total, RUNS_PAGE),
        files=files,
        mapping_names=[m["name"] for m in layouts],
        sources=SOURCES,
        form=form,
        import_source=extra.pop("import_source", "card"),
        errors=errors,
        **extra,
    )


@router.get("")
async def home(request: Request) -> Response:
    return await _home(request)


def choice(value: str, allowed: list[str], name: str) -> str:
    """The value when it is one of the page's choices; a forged one is an error beside its field."""
    if value not in allowed:
        raise Invalid("console.invalid_choice", field=name)
    return value


async def _save_upload(upload: UploadFile, path: Path) -> int:
    """The upload streamed to ``path`` (refused beyond ``MAX_UPLOAD`` or when empty): its number of lines,
    counted on the way, the denominator of the import's progress."""
    size = newlines = 0
    last = b""
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
    return newlines + (1 if last not in (b"\n", b"") else 0)


@router.post("/import")
async def start_import(request: Request) -> Response:
    """Save the upload, then import it on a worker thread; the page follows the job's progress."""
    actor, c, form = await posted(request, "recon.import")
    source = str(form.get("source") or "")
    upload = form.get("file")
    errors = Errors(lang_of(request))
    with errors.catch():
        choice(source, SOURCES, "source")
    if not isinstance(upload, UploadFile) or not upload.filename:
        errors.put("file", Invalid("recon.file_required"))
    if errors:
        return await _home(request, 422, errors=errors, import_source=source)
    assert isinstance(upload, UploadFile)
    tmp = Path(tempfile.mkdtemp(prefix="posrefund-console-settlement-"))
    path = tmp / "upload"
    with errors.catch():
        lines = await _save_upload(upload, path)
    if errors:
        shutil.rmtree(tmp, ignore_errors=True)
        return await _home(request, 422, errors=errors, import_source=source)
    name = "".join(ch for ch in (upload.filename or "upload") if ch.isprintable())[:200] or "upload"

    layout = str(form.get("mapping") or "")[:40] if source == "card" else ""

    def work(job: Job) -> reconciliation.ImportReport:
        mapping = card_mapping_named(c.deps, actor, source, layout or None)
        settlement = open_settlement_file(source, path, filename=name, mapping=mapping)
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


@router.post("/sales-import")
async def start_sales_import(request: Request) -> Response:
    """Save the sales file, then import it on a worker thread (``sales import``'s bulk reader); the page follows
    the job's progress a batch at a time and lists every refused row when it is done."""
    actor, c, form = await posted(request, "sale.import")
    upload = form.get("sales_file")
    errors = Errors(lang_of(request))
    if not isinstance(upload, UploadFile) or not upload.filename:
        errors.put("sales_file", Invalid("recon.file_required"))
        return await _home(request, 422, errors=errors)
    name = "".join(ch for ch in upload.filename if ch.isprintable())[:200] or "upload"
    tmp = Path(tempfile.mkdtemp(prefix="posrefund-console-sales-"))
    path = tmp / ("upload.xlsx" if is_xlsx(Path(name)) else "upload.csv")
    with errors.catch({"recon.file_empty": "sales_file", "recon.file_too_large": "sales_file"}):
        lines = await _save_upload(upload, path)
    if errors:
        shutil.rmtree(tmp, ignore_errors=True)
        return await _home(request, 422, errors=errors)

    def work(job: Job) -> sales_import.ImportReport:
        zone = ZoneInfo(c.deps.time_zone)
        scope = sales_import.import_scope(c.deps, actor)
        batches = read_sale_batches(path, scope, FIELD_RULES, zone, c.deps.clock.now)
        return sales_import.import_table(c.deps, actor, scope, batches, zone, job.tick)

    total = 0 if is_xlsx(path) else max(lines - 1, 0)  # the header is no sale; a workbook's lines mean nothing
    cleanup = lambda: shutil.rmtree(tmp, ignore_errors=True)  # noqa: E731 - the job's own cleanup
    job = _jobs(request).start(actor, "sales", work, total_lines=total, cleanup=cleanup, filename=name)
    return RedirectResponse(f"{PREFIX}/recon/jobs/{job.id}", status_code=303)


@router.post("/run")
async def start_run(request: Request) -> Response:
    actor, c, form = await posted(request, "recon.run")
    text = {k: str(form.get(k) or "")[:40] for k in ("source", "date_from", "date_to", "window_minutes")}
    errors = Errors(lang_of(request))
    days: dict[str, date] = {}
    window = DEFAULT_DUPLICATE_WINDOW_SECONDS
    with errors.catch():
        choice(text["source"], SOURCES, "source")
    for name in ("date_from", "date_to"):
        with errors.catch():
            days[name] = fmt.parse_date(text[name], name)
    if text["window_minutes"].strip():
        with errors.catch():
            window = fmt.parse_count(text["window_minutes"], "window_minutes", high=7 * 24 * 60) * 60
    if len(days) == 2:
        with errors.catch({"request.bad_range": "date_to", "recon.range_too_long": "date_to"}):
            check_range(days["date_from"], days["date_to"])
    if errors:
        return await _home(request, 422, errors=errors, form=text)

    def work(_job: Job) -> dict[str, Any]:
        with timed_reconciliation(request.app, text["source"]):
            return reconciliation.reconcile(
                c.deps,
                actor,
                source=text["source"],
                date_from=days["date_from"],
                date_to=days["date_to"],
                window_seconds=window,
                is_workday=c.router.is_workday,
            )

    job = _jobs(request).start(
        actor, "run", work, source=text["source"], date_from=text["date_from"], date_to=text["date_to"]
    )
    return RedirectResponse(f"{PREFIX}/recon/jobs/{job.id}", status_code=303)


# ---- progress ----------------------------------------------------------------------------------------------
def _job_view(request: Request, job_id: str, template: str) -> Response:
    """A job of the operator's merchant (another's is 404), as the page or the fragment the page polls."""
    actor = actor_of(request)
    actor.require("recon.read")
    job = _jobs(request).get(actor, job_id[:40])
    return render(request, template, job=job, poll_seconds=POLL_SECONDS)


@router.get("/jobs/{job_id}")
async def job_page(request: Request, job_id: str) -> Response:
    return _job_view(request, job_id, "recon_job.html")


@router.get("/jobs/{job_id}/progress")
async def job_progress(request: Request, job_id: str) -> Response:
    return _job_view(request, job_id, "recon_job_progress.html")


@router.get("/files/{file_id}")
async def file_page(request: Request, file_id: str) -> Response:
    actor, c = signed_in(request)
    row = await c.run(reconciliation.get_file, c.deps, actor, file_id[:64], 1_000)
    return render(request, "recon_file.html", file=row)


# ---- a run -------------------------------------------------------------------------------------------------
def _class_filter(request: Request, errors: Errors) -> str:
    cls = request.query_params.get("class", "")[:40]
    if cls and cls not in CLASSES:
        errors.put("class", Invalid("console.invalid_choice"))
        return ""
    return cls


@router.get("/runs/{run_id}")
async def run_page(request: Request, run_id: str) -> Response:
    actor, c = signed_in(request)
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
        **paging(page, total, PAGE),
        errors=errors,
    )


def _title(lang: str) -> str:
    return "Open discrepancies by class" if lang == "en" else "各类差错笔数"


def _console_columns(api_columns: list[str]) -> list[str]:
    """The API's discrepancy columns, with the class's label and each amount in yuan next to its code
    and fen, for people reading the export in a spreadsheet."""
    extra = {"class": "class_label", "ours_fen": "ours", "theirs_fen": "theirs"}
    out: list[str] = []
    for col in api_columns:
        out.append("discrepancy_id" if col == "id" else col)
        if col in extra:
            out.append(extra[col])
    return out


CSV_HEADER = _console_columns(CSV_COLUMNS)


def _csv_row(d: Mapping[str, Any], lang: str) -> list[Any]:
    ours, theirs = d.get("ours_fen"), d.get("theirs_fen")
    return [
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


@router.get("/runs/{run_id}/export.csv")
async def export(request: Request, run_id: str) -> Response:
    actor, c = signed_in(request)
    lang = lang_of(request)
    run_id = run_id[:64]
    cls = _class_filter(request, Errors(lang))
    found = await c.run(reconciliation.export_discrepancies, c.deps, actor, run_id, cls or None)

    name = f"reconciliation-{run_id}{'-' + cls if cls else ''}.csv"
    return csv_response(titled(CSV_HEADER, lang), (_csv_row(d, lang) for d in found), name)
