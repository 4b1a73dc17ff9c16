"""``posrefund reconcile FILE``: import a channel's settlement file and reconcile it against the ledger, for files
too large for the API upload; the summary says what differs, class by class."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from posrefund.domain.errors import DomainError
from posrefund.domain.money import format_yuan
from posrefund.domain.reconciliation import DiscrepancyClass
from posrefund.domain.roles import Role
from posrefund.entrypoints.cli.common import (
    ChannelOpt,
    JsonOpt,
    MerchantOpt,
    acting_as,
    app,
    build_deps,
    err,
    fail,
    out,
    print_json,
    progress_bar,
)
from posrefund.entrypoints.wording import message
from posrefund.ports import DiscrepancyRow

CLASS_ZH = {
    "missing_at_channel": "渠道缺失（本系统有，渠道无）",
    "missing_here": "本系统缺失（渠道有，本系统无）",
    "amount_mismatch": "金额不符",
    "fee_mismatch": "手续费不符",
    "duplicate_charge": "重复扣款",
    "refund_status_mismatch": "退款状态不符",
    "completion_missing_here": "预授权完成本系统缺失（渠道已结算，本系统未完成）",
    "completion_missing_at_channel": "预授权完成渠道缺失（本系统已完成，渠道无）",
}


def _count_lines(path: Path) -> int:
    n = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            n += chunk.count(b"\n")
    return n


@app.command("reconcile")
def reconcile(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="the settlement file")],
    merchant: MerchantOpt,
    channel: ChannelOpt,
    on: Annotated[datetime, typer.Option("--date", formats=["%Y-%m-%d"], help="settlement date (first day)")],
    to: Annotated[
        datetime | None, typer.Option("--to", formats=["%Y-%m-%d"], help="last day (default: --date)")
    ] = None,
    mapping: Annotated[
        str | None,
        typer.Option(help="the acquirer's layout: a stored or built-in mapping's name, or a TOML file's path"),
    ] = None,
    window: Annotated[int, typer.Option(help="seconds apart two card captures of one voucher no. are one sale")] = 600,
    show: Annotated[int, typer.Option(help="discrepancies listed in the table (0: none)")] = 20,
    as_json: JsonOpt = False,
) -> None:
    """Import a settlement file (recognised if imported before) and reconcile it against posrefund's ledger."""
    from posrefund.adapters.calendar_cn import ChineseCalendar
    from posrefund.adapters.settlement import SettlementFormatError, open_settlement_file
    from posrefund.service import reconciliation

    deps = build_deps()
    actor = acting_as(deps, merchant, Role.FINANCE)
    workday = ChineseCalendar().is_workday  # decides which files prove an unknown card refund failed
    try:
        card_mapping = _layout(deps, actor, channel, mapping)
    except (SettlementFormatError, OSError, ValueError) as exc:
        err.print(f"[red]recon.bad_file[/red]: {exc}")
        raise typer.Exit(1) from None
    except DomainError as exc:
        fail(exc)
    first = on.date()
    last = to.date() if to else first
    try:
        with progress_bar("[bold]{task.description}", as_json) as progress:
            task = progress.add_task(f"导入 import {file.name}", total=_count_lines(file))
            settlement = open_settlement_file(channel, file, mapping=card_mapping)
            report = reconciliation.import_file(
                deps,
                actor,
                **settlement.import_arguments(),
                progress=lambda n: progress.advance(task, n),
                date_from=first,
                date_to=last,
            )
            progress.update(task, completed=progress.tasks[0].total)
        run = reconciliation.reconcile(
            deps, actor, source=channel, date_from=first, date_to=last, window_seconds=window, is_workday=workday
        )
        listed, _ = reconciliation.list_discrepancies(deps, actor, str(run["id"]), limit=show) if show else ([], 0)
    except DomainError as exc:
        fail(exc)
    if as_json:
        data = {"file": report.__dict__, "run": run, "discrepancies": listed}
        print_json(data)
        return
    _print_summary(report, run, listed)


def _layout(deps: Any, actor: Any, channel: str, mapping: str | None) -> Any:
    """A TOML file's mapping when ``mapping`` is a file's path (as before layouts were stored), else the stored or
    built-in layout of that name."""
    from posrefund.adapters.settlement import load_card_mapping
    from posrefund.entrypoints.mapping_files import card_mapping_named

    if mapping and mapping.endswith(".toml") and Path(mapping).is_file():
        return load_card_mapping(mapping)
    return card_mapping_named(deps, actor, channel, mapping)


def _print_summary(report: Any, run: Mapping[str, Any], listed: Sequence[DiscrepancyRow]) -> None:
    """The file's lines and bad lines, the run's count per discrepancy class, then the first discrepancies."""
    t = run["totals"]
    if report.notice:
        params = report.notice["params"]
        out.print(f"[yellow]{message(report.notice['code'], 'zh', params)}[/yellow]")
        out.print(f"[yellow]{message(report.notice['code'], 'en', params)}[/yellow]")
    seen = "（此前已导入 already imported）" if report.duplicate else ""
    shared = f", {report.overlap_lines} 行已在其他文件 already in other files" if report.overlap_lines else ""
    out.print(f"文件 file {report.file_id}{seen}: {report.lines} 行 lines, {report.bad_lines} 坏行 bad lines{shared}")
    for bad in report.bad[:10]:
        out.print(f"  [yellow]第 {bad['line_no']} 行[/yellow]: {bad['reason']}  {bad['excerpt']}")
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
        "ledger sales", "本系统消费", f"{t.get('ledger_sales', 0)} / {format_yuan(t.get('ledger_sales_fen', 0))}"
    )
    table.add_row("file sales", "渠道消费", f"{t.get('lines_sale', 0)} / {format_yuan(t.get('lines_sale_fen', 0))}")
    out.print(table)
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
        out.print(detail)
    state = "新建 new run" if run["created"] else ("已更新 updated" if run["changed"] else "结果未变 unchanged")
    out.print(f"{state}; 未结差错 open discrepancies: {t['open_discrepancies']}")


@app.command("settlement-withdraw")
def settlement_withdraw(
    file_id: Annotated[str, typer.Argument(help="the imported settlement file (stf_…)")],
    merchant: MerchantOpt,
    reason: Annotated[str, typer.Option(help="why the file is withdrawn (audited, shown on its runs)")],
    as_json: JsonOpt = False,
) -> None:
    """Withdraw an imported settlement file found wrong: its lines no longer count, the runs that read it are
    marked stale (run the same dates again), and the withdrawal is audited (acting as finance)."""
    from posrefund.service import reconciliation

    deps = build_deps()
    actor = acting_as(deps, merchant, Role.FINANCE)
    try:
        done = reconciliation.withdraw_file(deps, actor, file_id, reason)
    except DomainError as exc:
        fail(exc)
    if as_json:
        print_json(done)
        return
    out.print(f"已撤回 withdrawn {done['file_id']}: {done['lines_removed']} 行不再计入 lines no longer count")
    for run in done["stale_runs"]:
        out.print(
            f"  对账批次 run {run['id']} ({run['source']} {run['date_from']}…{run['date_to']}) 已过时 is stale: "
            f"posrefund reconcile FILE -m {merchant} -c {run['source']} --date {run['date_from']} --to {run['date_to']}"
        )
