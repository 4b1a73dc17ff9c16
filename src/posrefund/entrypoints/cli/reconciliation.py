"""CLI for reconciliation (recon, issue 6): ``posrefund reconcile FILE`` and ``posrefund demo settlement``."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from posrefund.domain.errors import DomainError
from posrefund.domain.money import format_yuan
from posrefund.domain.reconciliation import SOURCE_CHANNELS, DiscrepancyClass, Source
from posrefund.domain.roles import Role

CLASS_ZH = {
    "missing_at_channel": "渠道缺失（本系统有，渠道无）",
    "missing_here": "本系统缺失（渠道有，本系统无）",
    "amount_mismatch": "金额不符",
    "fee_mismatch": "手续费不符",
    "duplicate_charge": "重复扣款",
    "refund_status_mismatch": "退款状态不符",
}
ChannelOpt = Annotated[str, typer.Option("--channel", "-c", help="card | wechat | alipay")]
JsonOpt = Annotated[bool, typer.Option("--json", help="print the result as JSON")]
MerchantOpt = Annotated[str, typer.Option("--merchant", "-m", help="merchant id or code")]


def _count_lines(path: Path) -> int:
    n = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            n += chunk.count(b"\n")
    return n


def reconcile(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="the settlement file")],
    merchant: MerchantOpt,
    channel: ChannelOpt,
    on: Annotated[datetime, typer.Option("--date", formats=["%Y-%m-%d"], help="settlement date (first day)")],
    to: Annotated[
        datetime | None, typer.Option("--to", formats=["%Y-%m-%d"], help="last day (default: --date)")
    ] = None,
    mapping: Annotated[Path | None, typer.Option(help="TOML column mapping of the acquirer's card file")] = None,
    window: Annotated[int, typer.Option(help="duplicate-charge window, seconds")] = 600,
    show: Annotated[int, typer.Option(help="discrepancies listed in the table (0: none)")] = 20,
    as_json: JsonOpt = False,
) -> None:
    """Import a settlement file (recognised if imported before) and reconcile it against posrefund's ledger."""
    from posrefund.adapters.settlement import SettlementFormatError, load_card_mapping, open_settlement_file
    from posrefund.entrypoints.cli import main as cli
    from posrefund.service import reconciliation

    deps = cli._deps()
    actor = cli._as(deps, merchant, Role.FINANCE)
    try:
        card_mapping = load_card_mapping(mapping) if mapping else None
    except (SettlementFormatError, OSError, ValueError) as exc:
        cli.err.print(f"[red]recon.bad_file[/red]: {exc}")
        raise typer.Exit(1) from None
    try:
        with Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=cli.err,
            disable=as_json,
        ) as progress:
            task = progress.add_task(f"导入 import {file.name}", total=_count_lines(file))
            settlement = open_settlement_file(channel, file, mapping=card_mapping)
            report = reconciliation.import_file(
                deps, actor, **settlement.import_arguments(), progress=lambda n: progress.advance(task, n)
            )
            progress.update(task, completed=progress.tasks[0].total)
        first = on.date()
        last = to.date() if to else first
        run = reconciliation.reconcile(
            deps, actor, source=channel, date_from=first, date_to=last, window_seconds=window
        )
        listed, _ = reconciliation.list_discrepancies(deps, actor, str(run["id"]), limit=show) if show else ([], 0)
    except DomainError as exc:
        cli._fail(exc)
        return
    if as_json:
        data = {"file": report.__dict__, "run": run, "discrepancies": listed}
        cli.out.print_json(json.dumps(data, ensure_ascii=False, default=str))
        return
    _print_summary(report, run, listed)


def _print_summary(report: Any, run: dict[str, Any], listed: list[dict[str, Any]]) -> None:
    from posrefund.entrypoints.cli import main as cli

    t = run["totals"]
    seen = "（此前已导入 already imported）" if report.duplicate else ""
    cli.out.print(f"文件 file {report.file_id}{seen}: {report.lines} 行 lines, {report.bad_lines} 坏行 bad lines")
    for bad in report.bad[:10]:
        cli.out.print(f"  [yellow]第 {bad['line_no']} 行[/yellow]: {bad['reason']}  {bad['excerpt']}")
    table = Table(title=f"对账 reconciliation {run['id']} · {run['source']} · {run['date_from']}…{run['date_to']}")
    table.add_column("差错类型 class")
    table.add_column("", style="dim")
    table.add_column("笔数 count", justify="right")
    for cls in DiscrepancyClass:
        n = t["discrepancies"].get(cls.value, 0)
        table.add_row(cls.value, CLASS_ZH[cls.value], f"[red]{n}[/red]" if n else "0")
    table.add_section()
    table.add_row("matched sales", "已匹配消费", str(t.get("matched_sales", 0)))
    table.add_row("matched refunds", "已匹配退款", str(t.get("matched_refunds", 0)))
    table.add_row(
        "ledger sales", "本系统消费", f"{t.get('ledger_sales', 0)} / ¥{format_yuan(t.get('ledger_sales_fen', 0))}"
    )
    table.add_row("file sales", "渠道消费", f"{t.get('lines_sale', 0)} / ¥{format_yuan(t.get('lines_sale_fen', 0))}")
    cli.out.print(table)
    if listed:
        detail = Table(title="差错明细 discrepancies (first)")
        for col in ("id", "class", "line", "sale / refund", "ours", "theirs"):
            detail.add_column(col)
        for d in listed:
            detail.add_row(
                str(d["id"]),
                d["class"],
                str(d["line_id"] or ""),
                d["sale_id"] or d["refund_id"] or "",
                str(d["ours_fen"] if d["ours_fen"] is not None else d["ours_status"]),
                str(d["theirs_fen"] if d["theirs_fen"] is not None else d["theirs_status"]),
            )
        cli.out.print(detail)
    state = "新建 new run" if run["created"] else ("已更新 updated" if run["changed"] else "结果未变 unchanged")
    cli.out.print(f"{state}; 未结差错 open discrepancies: {t['open_discrepancies']}")


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
    from posrefund.demo.settlement import Faults, from_ledger
    from posrefund.entrypoints.cli import main as cli

    try:
        src = Source(channel)
    except ValueError:
        cli.err.print(f"[red]recon.invalid_source[/red]: {channel}")
        raise typer.Exit(2) from None
    deps = cli._deps()
    mid = cli._merchant_id(deps, merchant)
    day = on.date() if on else deps.local_date(deps.clock.now()) - timedelta(days=1)
    with deps.uow(readonly=True) as uow:
        channels = list(SOURCE_CHANNELS[src])
        sales = list(uow.recon.ledger_sales(mid, channels, day, day))
        refunds = list(uow.recon.ledger_refunds(mid, channels, day, day))
        rates = {r.channel: r for r in uow.recon.fee_rates(mid)}
    out_dir.mkdir(parents=True, exist_ok=True)
    suffix = {"card": "acquirer.csv", "wechat": "wechatpay-bill.csv", "alipay": "alipay-bill.csv"}[src.value]
    path = out_dir / f"{day:%Y%m%d}-{suffix}"
    faults = Faults(
        missing_here=missing_here,
        missing_at_channel=missing_at_channel,
        amount_mismatch=amount_mismatch,
        fee_mismatch=fee_mismatch if rates else 0,
        duplicate_charge=duplicate_charge,
        refund_status_mismatch=refund_status_mismatch,
    )
    injected = from_ledger(path, src.value, day, sales, refunds, faults, rates, seed=seed)
    result = {
        "file": str(path),
        "date": day.isoformat(),
        "sales": len(sales),
        "refunds": len(refunds),
        "injected": [{"class": c, "what": w} for c, w in injected],
        "next": f"posrefund reconcile {path} -m {merchant} --channel {src.value} --date {day}",
    }
    if as_json:
        cli.out.print_json(json.dumps(result, ensure_ascii=False))
        return
    table = Table(title=f"{path} · {len(sales)} sales · {len(refunds)} refunds")
    table.add_column("injected fault 注入差错")
    table.add_column("what")
    for c, w in injected:
        table.add_row(c, w)
    cli.out.print(table)
    if not rates and fee_mismatch:
        cli.err.print("no fee rate configured for this merchant: fee faults skipped (PUT /v1/reconciliation/fee-rates)")
    cli.out.print(f"next: {result['next']}")


def register(app: typer.Typer) -> None:
    """Adds ``reconcile`` and turns ``demo`` into a group: ``posrefund demo`` still seeds the demo merchant,
    ``posrefund demo settlement`` writes settlement files for it."""
    app.command("reconcile")(reconcile)
    seed_cmd = next(c for c in app.registered_commands if c.name == "demo")
    app.registered_commands.remove(seed_cmd)
    seed_fn = seed_cmd.callback
    assert seed_fn is not None
    demo_app = typer.Typer(help=seed_fn.__doc__, invoke_without_command=True, add_completion=False)

    @demo_app.callback()
    def demo_root(
        ctx: typer.Context,
        if_empty: Annotated[bool, typer.Option("--if-empty", help="do nothing when a demo merchant exists")] = False,
        as_json: JsonOpt = False,
    ) -> None:
        if ctx.invoked_subcommand is None:
            seed_fn(if_empty=if_empty, as_json=as_json)

    demo_app.command("settlement")(demo_settlement)
    app.add_typer(demo_app, name="demo")
