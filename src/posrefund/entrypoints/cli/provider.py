"""``posrefund provider …``: the payment service provider's desk from the host — open a provider's desk, list
its terminals and device returns with their clock, run the decision clock (escalations and breaches), show the
dashboard. The host acts as the named provider's administrator, audited as 'cli'."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated, Any

import typer
from rich.table import Table

from posrefund.domain.errors import DomainError
from posrefund.entrypoints.cli.common import JsonOpt, app, build_deps, emit, fail, out, print_json, settings
from posrefund.service.deps import Deps
from posrefund.service.provider import clock, desk

HELP = "the provider's desk: terminals and device returns / 服务商机具与退机"
provider_app = typer.Typer(help=HELP, no_args_is_help=True)
app.add_typer(provider_app, name="provider")
ProviderOpt = Annotated[str, typer.Option("--provider", "-p", help="the provider's id (merchants' provider_id)")]
CLOCK = {
    "not_started": "未开始",
    "running": "计时中",
    "last_day": "最后一天",
    "breached": "已超时",
    "stopped": "已结束",
}


def _calendar(deps: Deps) -> Callable[[date], bool]:
    """The Chinese working days, with the admins' overrides, as the worker sees them."""
    from posrefund import bootstrap

    router = bootstrap.build_router(settings(), deps)
    bootstrap.load_calendar_overrides(deps, router)
    return router.is_workday


@provider_app.command("setup")
def setup(
    provider: ProviderOpt,
    name: Annotated[str, typer.Option("--name", help="the provider's name, e.g. 联动优势")],
    code: Annotated[str, typer.Option("--code", help="merchant code of the provider's seller record")],
    as_json: JsonOpt = False,
) -> None:
    """Open the provider's desk: its seller record, on which device charges and their refunds are kept."""
    deps = build_deps()
    try:
        row = desk.set_up(deps, desk.provider_actor(provider), name=name, code=code)
    except DomainError as exc:
        fail(exc)
    emit(row, as_json, "服务商台账 provider desk")


@provider_app.command("terminals")
def terminals(
    provider: ProviderOpt,
    merchant: Annotated[str | None, typer.Option("--merchant", "-m", help="one merchant's id")] = None,
    as_json: JsonOpt = False,
) -> None:
    """The terminals the provider issued, with what each merchant paid and the device's state."""
    deps = build_deps()
    try:
        rows = [desk.public_device(r) for r in desk.list_devices(deps, desk.provider_actor(provider), merchant)]
    except DomainError as exc:
        fail(exc)
    if as_json:
        print_json(rows)
        return
    table = Table("SN", "型号 model", "商户 merchant", "状态 state", "已付 paid", "方式 route", "签收 signed")
    for r in rows:
        paid = f"¥{r['paid_fen'] / 100:.2f}"
        table.add_row(r["sn"], r["model"], r["merchant_id"], r["state"], paid, r["route"], str(r["signed_on"] or "—"))
    out.print(table)


@provider_app.command("returns")
def returns_list(
    provider: ProviderOpt,
    open_only: Annotated[bool, typer.Option("--open", help="only returns not yet decided")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Device returns, the most urgent first, with the days left on their decision clock."""
    deps = build_deps()
    try:
        rows = clock.list_returns(deps, desk.provider_actor(provider), _calendar(deps), open_only=open_only)
    except DomainError as exc:
        fail(exc)
    if as_json:
        print_json(rows)
        return
    table = Table("退机单 return", "SN", "状态 status", "时限 clock", "截止 due", "剩余工作日 left")
    for r in rows:
        left = "—" if r["working_days_left"] is None else str(r["working_days_left"])
        table.add_row(r["id"], r["sn"], r["status"], CLOCK[r["clock"]], str(r["due_on"] or "—"), left)
    out.print(table)


@provider_app.command("clock")
def run_clock(
    provider: Annotated[str | None, typer.Option("--provider", "-p", help="one provider (default: all)")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Escalate returns on their last working day to the provider's administrators, mark the breached (the
    worker does this about once a minute)."""
    deps = build_deps()
    counts: dict[str, Any] = clock.escalate_due(deps, _calendar(deps), provider)
    if as_json:
        print_json(counts)
        return
    out.print(f"已升级 escalated {counts['escalated']}，已超时 breached {counts['breached']}")


@provider_app.command("dashboard")
def dashboard(provider: ProviderOpt, as_json: JsonOpt = False) -> None:
    """Open returns by their clock, breaches, and what was refunded to merchants this month."""
    deps = build_deps()
    try:
        data = clock.dashboard(deps, desk.provider_actor(provider), _calendar(deps))
    except DomainError as exc:
        fail(exc)
    emit(data, as_json, "服务商看板 provider dashboard")
