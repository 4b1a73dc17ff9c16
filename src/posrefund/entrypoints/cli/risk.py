"""``posrefund risk …``: run the rules over a range (``scan`` keeps alerts, ``backtest`` only lists), list and
decide alerts, show or set the merchant's rules; ``posrefund demo risk`` writes a realistic month with planted
schemes and its answer key."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer
from rich.table import Table

from posrefund.domain.errors import DomainError
from posrefund.domain.roles import Role
from posrefund.entrypoints.cli.common import (
    JsonOpt,
    MerchantOpt,
    acting_as,
    build_deps,
    demo_app,
    fail,
    out,
    print_json,
    risk_app,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
SinceOpt = Annotated[
    datetime | None, typer.Option("--since", formats=["%Y-%m-%d"], help="first day, Shanghai (default: 30 days ago)")
]
UntilOpt = Annotated[
    datetime | None, typer.Option("--until", formats=["%Y-%m-%d"], help="last day, Shanghai (default: today)")
]


def window(since: datetime | None, until: datetime | None) -> tuple[datetime, datetime]:
    """Whole local days: from the start of ``since`` to the end of ``until`` (Asia/Shanghai)."""
    last: date = until.date() if until else datetime.now(SHANGHAI).date()
    first: date = since.date() if since else last - timedelta(days=29)
    start = datetime.combine(first, time(0), SHANGHAI).astimezone(UTC)
    return start, datetime.combine(last + timedelta(days=1), time(0), SHANGHAI).astimezone(UTC)


def _findings_table(items: list[dict[str, Any]], title: str) -> Table:
    table = Table("severity / 级别", "rule / 规则", "subject / 对象", "summary / 说明", "cases", title=title)
    for f in items:
        table.add_row(
            f["severity"],
            f["rule"],
            f"{f['subject_kind']}:{f['subject_id']}",
            f["summary"][0],
            str(len(f.get("case_ids", []))),
        )
    return table


@risk_app.command("scan")
def scan(merchant: MerchantOpt, since: SinceOpt = None, until: UntilOpt = None, as_json: JsonOpt = False) -> None:
    """Run the merchant's rules over the days and keep what they find as alerts (audited)."""
    from posrefund.service.risk.alerts import scan as run_scan

    deps = build_deps()
    start, end = window(since, until)
    try:
        result = run_scan(deps, acting_as(deps, merchant, Role.RISK), start, end)
    except DomainError as exc:
        fail(exc)
    data = {"raised": result.raised, "updated": result.updated, "unchanged": result.unchanged}
    if as_json:
        print_json(data)
        return
    out.print(f"新预警 raised {result.raised}，更新 updated {result.updated}，未变 unchanged {result.unchanged}")


@risk_app.command("backtest")
def backtest(
    merchant: MerchantOpt,
    since: SinceOpt = None,
    until: UntilOpt = None,
    rules: Annotated[Path | None, typer.Option(help="JSON file of trial settings {rule: {name: value}}")] = None,
    as_json: JsonOpt = False,
) -> None:
    """What the rules would have flagged over the days, with the merchant's or trial settings; writes nothing."""
    from posrefund.service.risk.backtest import backtest as run_backtest

    deps = build_deps()
    start, end = window(since, until)
    trial = json.loads(rules.read_text(encoding="utf-8")) if rules else None
    try:
        result = run_backtest(deps, acting_as(deps, merchant, Role.RISK), start, end, trial)
    except DomainError as exc:
        fail(exc)
    if as_json:
        print_json(result)
        return
    out.print(_findings_table(result["findings"], f"回测 back-test {start:%Y-%m-%d} – {end:%Y-%m-%d}"))


@risk_app.command("alerts")
def alerts(
    merchant: MerchantOpt,
    status: Annotated[str | None, typer.Option(help="new | investigating | confirmed | dismissed")] = None,
    severity: Annotated[str | None, typer.Option(help="low | medium | high")] = None,
    limit: Annotated[int, typer.Option(min=1, max=500)] = 100,
    as_json: JsonOpt = False,
) -> None:
    """The merchant's alerts, newest first."""
    from posrefund.ports.risk import AlertQuery
    from posrefund.service.risk.alerts import list_alerts

    deps = build_deps()
    try:
        items, total = list_alerts(
            deps, acting_as(deps, merchant, Role.RISK), AlertQuery(status, None, severity, limit=limit)
        )
    except DomainError as exc:
        fail(exc)
    if as_json:
        print_json({"items": items, "total": total})
        return
    table = Table(
        "id",
        "status / 状态",
        "severity / 级别",
        "rule / 规则",
        "subject / 对象",
        "summary / 说明",
        title=f"{total} alerts",
    )
    for a in items:
        table.add_row(
            a["id"],
            a["status"],
            a["severity"],
            a["rule"],
            f"{a['subject_kind']}:{a['subject_id']}",
            a["evidence"]["summary"][0],
        )
    out.print(table)


@risk_app.command("decide")
def decide(
    merchant: MerchantOpt,
    alert_id: Annotated[str, typer.Argument(help="the alert's id")],
    status: Annotated[str, typer.Option(help="investigating | confirmed | dismissed")],
    reason: Annotated[str, typer.Option(help="why (required to dismiss)")] = "",
    as_json: JsonOpt = False,
) -> None:
    """Investigate, confirm or dismiss an alert (audited as the CLI)."""
    from posrefund.service.risk.alerts import Decision
    from posrefund.service.risk.alerts import decide as run_decide

    deps = build_deps()
    try:
        row = run_decide(deps, acting_as(deps, merchant, Role.RISK), alert_id, Decision(status, reason))
    except DomainError as exc:
        fail(exc)
    if as_json:
        print_json(row)
        return
    out.print(f"{row['id']}: {row['status']}")


@risk_app.command("rules")
def rules(
    merchant: MerchantOpt,
    set_file: Annotated[
        Path | None, typer.Option("--set", help="JSON file of settings to store {rule: {name: value}}")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Show the rules with this merchant's settings, or store new settings (audited)."""
    from posrefund.service.risk.alerts import put_rules, rules_view

    deps = build_deps()
    actor = acting_as(deps, merchant, Role.RISK)
    try:
        view = (
            put_rules(deps, actor, json.loads(set_file.read_text(encoding="utf-8")))
            if set_file
            else rules_view(deps, actor)
        )
    except DomainError as exc:
        fail(exc)
    if as_json:
        print_json(view)
        return
    table = Table("rule / 规则", "on / 启用", "settings / 设置", "confirmed", "dismissed")
    for r in view["rules"]:
        shown = ", ".join(f"{k}={v}" for k, v in r["settings"].items() if k != "enabled")
        table.add_row(
            f"{r['code']}\n{r['title'][0]}",
            "✓" if r["settings"]["enabled"] else "✗",
            shown,
            str(r["feedback"]["confirmed"]),
            str(r["feedback"]["dismissed"]),
        )
    out.print(table)


@demo_app.command("risk")
def demo_risk(
    code: Annotated[str, typer.Option("--merchant", "-m", help="code of the new merchant")] = "RISKDEMO",
    answer: Annotated[Path, typer.Option("--answer", help="where to write the answer key (JSON)")] = Path(
        "risk-answer-key.json"
    ),
    seed: Annotated[int, typer.Option(help="random seed: the same seed, the same month")] = 2026,
    sales_per_shift: Annotated[int, typer.Option(min=1, max=500, help="sales a cashier rings up per shift")] = 25,
    as_json: JsonOpt = False,
) -> None:
    """A realistic month of a new merchant (20 cashiers, four stores, 30 days) with planted refund schemes;
    the answer key lists them."""
    from posrefund.demo.risk_load import load_month
    from posrefund.demo.risk_schemes import plan_month

    deps = build_deps()
    try:
        key = load_month(deps, plan_month(deps.clock.now(), seed=seed, sales_per_shift=sales_per_shift), code, answer)
    except DomainError as exc:
        fail(exc)
    if as_json:
        print_json({k: key[k] for k in ("merchant_id", "merchant_code", "start", "end", "sales", "refunds")})
        return
    first = datetime.fromisoformat(key["start"]).astimezone(SHANGHAI).date()
    out.print(
        f"商户 {code}: {key['sales']} 笔销售 sales, {key['refunds']} 笔退款 refunds, {len(key['schemes'])} schemes"
    )
    out.print(f"答案 answer key: {answer}   扫描 scan: posrefund risk scan -m {code} --since {first}")
