"""``posrefund till``: the end-of-shift till check (日结 / 现金盘点) from the host — count a shift, sign one off,
list them — and ``posrefund mappings``: the acquirer layouts an import can name (``reconcile --mapping NAME``)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import typer
from rich.table import Table

from posrefund.domain.errors import DomainError, Invalid
from posrefund.domain.money import format_yuan
from posrefund.domain.roles import Role
from posrefund.entrypoints.cli.common import JsonOpt, MerchantOpt, acting_as, app, build_deps, fail, out, print_json
from posrefund.entrypoints.console.fmt import parse_yuan

till_app = typer.Typer(help="till checks at the end of a shift / 日结现金盘点", no_args_is_help=True)
app.add_typer(till_app, name="till")
mappings_app = typer.Typer(help="acquirer settlement layouts / 对账单映射", no_args_is_help=True)
app.add_typer(mappings_app, name="mappings")
TimeOpt = typer.Option(formats=["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%d %H:%M%z"], help="with its offset, e.g. +08:00")
STATUS_ZH = {"counted": "已盘点", "signed_off": "已签核"}
INVESTIGATION_ZH = {"": "无", "open": "调查中", "closed": "已结案"}


def _fen(text: str, field: str) -> int:
    """Yuan as typed (``-5`` names the field refused as negative)."""
    value = text.strip()
    if value.startswith("-"):
        raise Invalid("till.negative_amount", field=field)
    return parse_yuan(value, field)


@till_app.command("count")
def count(
    merchant: MerchantOpt,
    terminal: Annotated[str, typer.Option(help="the terminal whose drawer was counted (trm_…)")],
    opened: Annotated[datetime, TimeOpt],
    closed: Annotated[datetime, TimeOpt],
    float_yuan: Annotated[str, typer.Option("--float", help="the opening float, yuan")],
    counted: Annotated[str, typer.Option(help="the cash counted, yuan")],
    as_json: JsonOpt = False,
) -> None:
    """Count a shift's drawer (acting as a cashier): expected, counted, difference; beyond tolerance an
    investigation opens."""
    from posrefund.service import till

    deps = build_deps()
    actor = acting_as(deps, merchant, Role.CASHIER)
    try:
        entered = till.TillCount(terminal, opened, closed, _fen(float_yuan, "float"), _fen(counted, "counted"))
        row = till.count_till(deps, actor, entered)
    except DomainError as exc:
        fail(exc)
    _show(row, as_json)


@till_app.command("sign-off")
def sign_off(
    merchant: MerchantOpt,
    till_id: Annotated[str, typer.Argument(help="the till check (til_…)")],
    note: Annotated[str, typer.Option(help="what the investigation found, when one is open")] = "",
    as_json: JsonOpt = False,
) -> None:
    """Sign a shift off (acting as a supervisor; never the one who counted it)."""
    from posrefund.service import till

    deps = build_deps()
    try:
        row = till.sign_off(deps, acting_as(deps, merchant, Role.SUPERVISOR), till_id, note)
    except DomainError as exc:
        fail(exc)
    _show(row, as_json)


@till_app.command("list")
def list_tills(merchant: MerchantOpt, limit: int = 20, as_json: JsonOpt = False) -> None:
    """The newest till checks with their difference and investigation."""
    from posrefund.service import till

    deps = build_deps()
    rows = till.list_tills(deps, acting_as(deps, merchant, Role.SUPERVISOR), limit)
    if as_json:
        print_json(rows)
        return
    table = Table(title="日结 till checks")
    for col in ("id", "终端 terminal", "应有 expected", "实点 counted", "差额 difference", "状态 status", "调查"):
        table.add_column(col)
    for r in rows:
        table.add_row(
            r["id"],
            r["terminal_id"],
            format_yuan(r["expected_fen"]),
            format_yuan(r["counted_fen"]),
            format_yuan(r["difference_fen"]),
            STATUS_ZH[r["status"]],
            INVESTIGATION_ZH[r["investigation"]],
        )
    out.print(table)


def _show(r: Any, as_json: bool) -> None:
    if as_json:
        print_json(r)
        return
    out.print(
        f"日结 {r['id']}：应有 {format_yuan(r['expected_fen'])}，实点 {format_yuan(r['counted_fen'])}，"
        f"差额 {format_yuan(r['difference_fen'])}（容差 {format_yuan(r['tolerance_fen'])}）；"
        f"{STATUS_ZH[r['status']]}，调查：{INVESTIGATION_ZH[r['investigation']]}"
    )


@mappings_app.command("list")
def list_mappings(merchant: MerchantOpt, as_json: JsonOpt = False) -> None:
    """The built-in layouts and the merchant's own, by name (for ``reconcile --mapping NAME``)."""
    from posrefund.service.reconciliation import mappings

    deps = build_deps()
    rows = mappings.list_mappings(deps, acting_as(deps, merchant, Role.FINANCE))
    if as_json:
        print_json(rows)
        return
    for m in rows:
        kind = "内置 built-in" if m["built_in"] else f"v{m['version']}"
        out.print(f"{m['name']}  ({kind})  {', '.join(m['spec']['columns'].values())}")
