"""``posrefund reports``: keep the refund reports' daily aggregates current without the worker (``catch-up``, for
a cron job), rebuild a period after rows came in by hand (``rebuild``), and print a month (``show``)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer

from posrefund.domain.errors import DomainError
from posrefund.domain.reports import By
from posrefund.domain.roles import Role
from posrefund.entrypoints.cli.common import JsonOpt, acting_as, app, build_deps, emit, fail
from posrefund.service.reports import upkeep
from posrefund.service.reports.figures import ReportRequest, refund_report

reports_app = typer.Typer(help="refund reports / 退款报表", no_args_is_help=True)
app.add_typer(reports_app, name="reports")
MerchantOpt = Annotated[str, typer.Option("--merchant", "-m", help="merchant id or code")]
FromOpt = Annotated[str, typer.Option("--from", help="first local day, YYYY-MM-DD")]
ToOpt = Annotated[str, typer.Option("--to", help="last local day, YYYY-MM-DD")]


@reports_app.command("catch-up")
def catch_up(as_json: JsonOpt = False) -> None:
    """Rebuild every merchant's days whose cases or sales changed since the last rebuild."""
    emit({"days_rebuilt": upkeep.catch_up_all(build_deps())}, as_json, "reports")


@reports_app.command("rebuild")
def rebuild(merchant: MerchantOpt, first: FromOpt, last: ToOpt, as_json: JsonOpt = False) -> None:
    """Rebuild one merchant's aggregates for every day of a period (at most 366 days)."""
    deps = build_deps()
    try:
        days = upkeep.rebuild_period(deps, acting_as(deps, merchant, Role.FINANCE), _day(first), _day(last))
    except DomainError as exc:
        fail(exc)
    emit({"days_rebuilt": days}, as_json, "reports")


@reports_app.command("show")
def show(
    merchant: MerchantOpt,
    first: FromOpt,
    last: ToOpt,
    by: Annotated[By, typer.Option("--by")] = By.DAY,
    cases: Annotated[bool, typer.Option("--cases", help="read the cases themselves, not the aggregates")] = False,
    as_json: JsonOpt = False,
) -> None:
    """A period's refund figures (the API's /v1/reports/refunds), with the previous period's total."""
    deps = build_deps()
    try:
        actor = acting_as(deps, merchant, Role.FINANCE)
        report = refund_report(deps, actor, ReportRequest(_day(first), _day(last), by=by, raw=cases))
    except DomainError as exc:
        fail(exc)
    emit({"total": report["total"], "previous_total": report["previous_total"], "rows": report["rows"]}, as_json)


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"not a day (YYYY-MM-DD): {text}") from None
