"""``posrefund demo`` seeds a demo merchant to try every screen and call; ``posrefund demo settlement`` writes
the channel's settlement file for what that merchant recorded, with chosen faults for reconciliation to find."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from posrefund.domain.reconciliation import SOURCE_CHANNELS, FeeRate, Source
from posrefund.entrypoints.cli.common import (
    ChannelOpt,
    JsonOpt,
    build_deps,
    demo_app,
    emit,
    err,
    merchant_id,
    out,
    print_json,
)

if TYPE_CHECKING:
    from posrefund.demo.settlement import Faults
    from posrefund.service.deps import Deps

FILE_SUFFIX = {"card": "acquirer.csv", "wechat": "wechatpay-bill.csv", "alipay": "alipay-bill.csv"}


@demo_app.callback()
def demo_root(
    ctx: typer.Context,
    if_empty: Annotated[bool, typer.Option("--if-empty", help="do nothing when a demo merchant exists")] = False,
    as_json: JsonOpt = False,
) -> None:
    if ctx.invoked_subcommand is None:
        seed_demo(if_empty=if_empty, as_json=as_json)


def seed_demo(if_empty: bool, as_json: bool) -> None:
    """Seed the demo merchant (``posrefund demo``); a second one is refused, or skipped with ``--if-empty``."""
    from posrefund.demo.seed import seed

    deps = build_deps()
    with deps.uow(readonly=True) as uow:
        exists = uow.merchants.merchant_code_taken("DEMO")
    if exists and if_empty:
        err.print("demo merchant already present")
        return
    if exists:
        err.print("[red]merchant.code_taken[/red]: DEMO")
        raise typer.Exit(1)
    result = seed(deps, progress_console=None if as_json else err)
    if as_json:
        emit(result, True)
        return
    table = Table("username", "role", "password", title="demo operators / 演示账号")
    for u in result["users"]:
        table.add_row(u["username"], u["role"], result["password"])
    out.print(table)
    out.print(f"sales: {result['sales']}, refunds: {result['refunds']}, terminal key: {result['terminal_key']}")


@demo_app.command("settlement")
def demo_settlement(
    merchant: Annotated[str, typer.Option("--merchant", "-m", help="merchant id or code")] = "DEMO",
    channel: ChannelOpt = "card",
    on: Annotated[
        datetime | None, typer.Option("--date", formats=["%Y-%m-%d"], help="settlement date (default: yesterday)")
    ] = None,
    out_dir: Annotated[Path, typer.Option("--out", help="folder for the file")] = Path("."),
    missing_here: Annotated[int, typer.Option(help="lines the channel has and we do not")] = 1,
    missing_at_channel: Annotated[int, typer.Option(help="our sales left out of the file")] = 1,
    amount_mismatch: Annotated[int, typer.Option(help="sales with another amount in the file")] = 1,
    fee_mismatch: Annotated[int, typer.Option(help="sales charged another fee")] = 1,
    duplicate_charge: Annotated[int, typer.Option(help="sales charged twice at the channel")] = 1,
    refund_status_mismatch: Annotated[int, typer.Option(help="our in-flight refunds shown paid")] = 1,
    seed: Annotated[int, typer.Option(help="random seed")] = 2026,
    as_json: JsonOpt = False,
) -> None:
    """Write the channel's settlement file for what the merchant recorded on a day, with chosen faults injected."""
    from posrefund.demo.settlement import Faults

    src = _source(channel)
    deps = build_deps()
    mid = merchant_id(deps, merchant)
    day = on.date() if on else deps.local_date(deps.clock.now()) - timedelta(days=1)
    faults = Faults(
        missing_here=missing_here,
        missing_at_channel=missing_at_channel,
        amount_mismatch=amount_mismatch,
        fee_mismatch=fee_mismatch,
        duplicate_charge=duplicate_charge,
        refund_status_mismatch=refund_status_mismatch,
    )
    result, rates = _write_settlement(deps, mid, src, day, out_dir, faults, seed)
    result["next"] = f"posrefund reconcile {result['file']} -m {merchant} --channel {src.value} --date {day}"
    if as_json:
        print_json(result)
        return
    _print_injected(result)
    if not rates and fee_mismatch:
        err.print("no fee rate configured for this merchant: fee faults skipped (PUT /v1/reconciliation/fee-rates)")
    out.print(f"next: {result['next']}")


def _source(channel: str) -> Source:
    try:
        return Source(channel)
    except ValueError:
        err.print(f"[red]recon.invalid_source[/red]: {channel}")
        raise typer.Exit(2) from None


def _write_settlement(
    deps: Deps, mid: str, src: Source, day: date, out_dir: Path, faults: Faults, seed: int
) -> tuple[dict[str, Any], dict[str, FeeRate]]:
    """Write the file for the merchant's sales and refunds of the day; fee faults need a configured fee rate."""
    from dataclasses import replace

    from posrefund.demo.settlement import from_ledger

    with deps.uow(readonly=True) as uow:
        channels = list(SOURCE_CHANNELS[src])
        sales = list(uow.ledger.ledger_sales(mid, channels, day, day))
        refunds = list(uow.ledger.ledger_refunds(mid, channels, day, day))
        rates = {r.channel: r for r in uow.fee_rates.fee_rates(mid)}
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{day:%Y%m%d}-{FILE_SUFFIX[src.value]}"
    faults = faults if rates else replace(faults, fee_mismatch=0)
    injected = from_ledger(path, src.value, day, sales, refunds, faults, rates, seed=seed)
    result = {
        "file": str(path),
        "date": day.isoformat(),
        "sales": len(sales),
        "refunds": len(refunds),
        "injected": [{"class": c, "what": w} for c, w in injected],
    }
    return result, rates


def _print_injected(result: dict[str, Any]) -> None:
    table = Table(title=f"{result['file']} · {result['sales']} sales · {result['refunds']} refunds")
    table.add_column("injected fault 注入差错")
    table.add_column("what")
    for fault in result["injected"]:
        table.add_row(fault["class"], fault["what"])
    out.print(table)
