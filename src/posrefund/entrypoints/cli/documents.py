"""Printable documents at the command line: ``posrefund reports summary`` (the refund-cause summary of a week
or month, printed, written as PDF / HTML, or the due ones emailed now) and ``posrefund refund bank-application``
(the refund application to the bank: prepare, print, record submission and outcome)."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

import typer

from posrefund.adapters.calendar_cn import ChineseCalendar
from posrefund.bootstrap import build_notify_router
from posrefund.domain.errors import Conflict, DomainError
from posrefund.domain.roles import Role
from posrefund.entrypoints.cli.common import (
    JsonOpt,
    MerchantOpt,
    acting_as,
    build_deps,
    emit,
    err,
    fail,
    refund_app,
    settings,
)
from posrefund.entrypoints.cli.reports import _day, reports_app
from posrefund.ports.documents import DocumentMailer
from posrefund.service.documents import bank_applications as bank
from posrefund.service.documents import summary, summary_delivery
from posrefund.service.documents.html import document_page
from posrefund.service.documents.summary_document import summary_document

bank_app = typer.Typer(help="refund applications to the bank / 退费申请", no_args_is_help=True)
refund_app.add_typer(bank_app, name="bank-application")
CaseArg = Annotated[str, typer.Argument(help="refund case id")]
AppArg = Annotated[str, typer.Argument(help="bank application id")]


@reports_app.command("summary")
def cause_summary(
    merchant: MerchantOpt,
    period: Annotated[str, typer.Option("--period", help="2026-11 (a month) or 2026-11-23 (the Monday of a week)")],
    store: Annotated[list[str] | None, typer.Option("--store", help="store id (repeat); none: every store")] = None,
    pdf: Annotated[Path | None, typer.Option("--pdf", help="write the summary as PDF here")] = None,
    html: Annotated[Path | None, typer.Option("--html", help="write the summary as an HTML page here")] = None,
    as_json: JsonOpt = False,
) -> None:
    """The refund-cause summary (退款原因周报 / 月报): top causes against the previous period, notable cases, open
    items, prevention suggested by the rules."""
    deps = build_deps()
    try:
        s = summary.cause_summary(deps, acting_as(deps, merchant, Role.FINANCE), period, tuple(store or ()))
    except DomainError as exc:
        fail(exc)
    doc = summary_document(s, deps.clock.now())
    if pdf is not None:
        if deps.pdf is None:
            fail(Conflict("document.no_renderer"))
        pdf.write_bytes(deps.pdf.render(doc))
    if html is not None:
        html.write_text(document_page(doc), encoding="utf-8")
    brief: dict[str, Any] = {
        "period": s.period_key,
        "refunds": s.total.refunds,
        "previous_refunds": s.total.previous_refunds,
        "causes": [asdict(c) for c in s.total.causes],
        "advice": [asdict(a) for a in s.advice],
    }
    emit(json.loads(json.dumps(brief, default=str)), as_json, "summary")


@reports_app.command("summary-send")
def send_due(
    merchant: Annotated[str | None, typer.Option("--merchant", "-m")] = None, as_json: JsonOpt = False
) -> None:
    """Email the summaries due now (last whole week / month) to their subscribers, as the worker does; each
    subscriber gets each period once, whoever sends it."""
    deps = build_deps()
    mailer = build_notify_router(settings()).gateways.get("email")
    if not isinstance(mailer, DocumentMailer):
        err.print("[red]no [email] section in POSREFUND_NOTIFY_FILE[/red]")
        raise typer.Exit(2)
    mid = acting_as(deps, merchant).merchant_id if merchant else None
    emit({"sent": summary_delivery.deliver_due(deps, mailer, mid)}, as_json, "summary")


def _run(step: Any, *args: Any) -> Any:
    try:
        return step(*args)
    except DomainError as exc:
        fail(exc)


def _show(row: Any, as_json: bool) -> None:
    emit(json.loads(json.dumps(row, default=str, ensure_ascii=False)), as_json, "bank application")


@bank_app.command("prepare")
def prepare(
    case_id: CaseArg,
    merchant: MerchantOpt,
    reason: Annotated[str, typer.Option("--reason", help="account_closed | too_old | issuer_dispute | other")],
    statement: Annotated[str, typer.Option("--statement")] = "",
    attachment: Annotated[list[str] | None, typer.Option("--attachment", help="paper document handed over")] = None,
    as_json: JsonOpt = False,
) -> None:
    deps = build_deps()
    prep = bank.Preparation(reason, statement, tuple(attachment or ()))
    _show(_run(bank.prepare, deps, acting_as(deps, merchant, Role.FINANCE), case_id, prep), as_json)


@bank_app.command("pdf")
def form_pdf(case_id: CaseArg, application_id: AppArg, merchant: MerchantOpt, out: Path) -> None:
    """Write the application form as PDF to OUT."""
    deps = build_deps()
    out.write_bytes(_run(bank.form_pdf, deps, acting_as(deps, merchant, Role.FINANCE), case_id, application_id))


@bank_app.command("submit")
def submit(
    case_id: CaseArg,
    application_id: AppArg,
    merchant: MerchantOpt,
    on: Annotated[str, typer.Option("--on", help="day handed in, YYYY-MM-DD")],
    channel: Annotated[str, typer.Option("--channel", help="counter | mail | portal | account_manager")],
    bank_name: Annotated[str, typer.Option("--bank")],
    reference: Annotated[str, typer.Option("--reference", help="the bank's reference")] = "",
    as_json: JsonOpt = False,
) -> None:
    deps = build_deps()
    sub = bank.Submission(_day(on), channel, bank_name, reference)
    actor = acting_as(deps, merchant, Role.FINANCE)
    _show(_run(bank.submit, deps, actor, case_id, application_id, sub, ChineseCalendar().is_workday), as_json)


@bank_app.command("outcome")
def outcome(
    case_id: CaseArg,
    application_id: AppArg,
    merchant: MerchantOpt,
    result: Annotated[str, typer.Option("--result", help="accepted | rejected")],
    on: Annotated[str, typer.Option("--on", help="day of the bank's answer, YYYY-MM-DD")],
    reply: Annotated[str, typer.Option("--reply", help="the bank's reply")] = "",
    as_json: JsonOpt = False,
) -> None:
    deps = build_deps()
    actor = acting_as(deps, merchant, Role.FINANCE)
    _show(_run(bank.record_outcome, deps, actor, case_id, application_id, result, _day(on), reply), as_json)
