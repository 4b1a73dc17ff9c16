"""``posrefund holds``: card pre-authorisations (预授权) from the host — list them, the ones nearing the end of
their validity, ask for a completion or a release (the worker sends it), and expire the ones past validity."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import typer
from rich.table import Table

from posrefund.domain.errors import DomainError
from posrefund.domain.fund_hold import HoldState, HoldStep, held_fen
from posrefund.domain.money import format_yuan
from posrefund.domain.roles import Role
from posrefund.entrypoints.cli.common import JsonOpt, MerchantOpt, acting_as, app, build_deps, fail, out, print_json
from posrefund.entrypoints.console.fmt import local, parse_yuan
from posrefund.ports.fund_holds import HoldRecord

holds_app = typer.Typer(help="card pre-authorisations / 预授权", no_args_is_help=True)
app.add_typer(holds_app, name="holds")
STATE_ZH = {"held": "冻结中", "completed": "已完成", "released": "已撤销", "expired": "已过期"}


def _rows(holds: list[HoldRecord], title: str, as_json: bool) -> None:
    if as_json:
        print_json(
            [
                {
                    "id": h.id,
                    "hold_no": h.held.hold_no,
                    "state": h.status.state.value,
                    "amount_fen": h.held.amount_fen,
                    "held_fen": held_fen(h.held, h.status),
                    "expires_at": h.held.expires_at.isoformat(),
                }
                for h in holds
            ]
        )
        return
    table = Table(title=title)
    for col in ("id", "编号 hold no.", "金额 amount", "冻结中 held", "状态 state", "到期 expires"):
        table.add_column(col)
    for h in holds:
        table.add_row(
            h.id,
            h.held.hold_no,
            format_yuan(h.held.amount_fen),
            format_yuan(held_fen(h.held, h.status)),
            STATE_ZH[h.status.state.value],
            local(h.held.expires_at),
        )
    out.print(table)


@holds_app.command("list")
def list_holds(
    merchant: MerchantOpt,
    state: Annotated[HoldState | None, typer.Option(help="held, completed, released or expired")] = None,
    limit: int = 50,
    as_json: JsonOpt = False,
) -> None:
    """The merchant's card holds, newest first."""
    from posrefund.service import fund_holds

    deps = build_deps()
    states = frozenset({state}) if state is not None else frozenset()
    _rows(fund_holds.list_holds(deps, acting_as(deps, merchant, Role.SUPERVISOR), states, limit), "预授权", as_json)


@holds_app.command("expiring")
def expiring(merchant: MerchantOpt, days: int = 3, as_json: JsonOpt = False) -> None:
    """Holds whose 30-day validity ends within ``days``: complete or release them before the issuer does."""
    from posrefund.service import fund_holds

    deps = build_deps()
    found = fund_holds.expiring_holds(deps, acting_as(deps, merchant, Role.SUPERVISOR), timedelta(days=days))
    _rows(found, f"{days} 天内到期的预授权", as_json)


def _ask(merchant: str, hold_id: str, step: HoldStep, amount_fen: int, reason: str) -> None:
    from posrefund.service import fund_holds

    deps = build_deps()
    try:
        op = fund_holds.ask(deps, acting_as(deps, merchant, Role.SUPERVISOR), hold_id, step, amount_fen, reason)
    except DomainError as exc:
        fail(exc)
    out.print(f"已提交 {op.operation_no}：{format_yuan(op.amount_fen)}，由后台发送给收单机构")


@holds_app.command("complete")
def complete(
    merchant: MerchantOpt,
    hold_id: Annotated[str, typer.Argument(help="the hold (hld_…)")],
    amount: Annotated[str, typer.Option(help="the final amount, yuan")],
    reason: str = "",
) -> None:
    """预授权完成: take the final amount (up to the hold plus the scheme's tolerance)."""
    _ask(merchant, hold_id, HoldStep.COMPLETE, parse_yuan(amount, "amount_fen"), reason)


@holds_app.command("release")
def release(
    merchant: MerchantOpt, hold_id: Annotated[str, typer.Argument(help="the hold (hld_…)")], reason: str = ""
) -> None:
    """预授权撤销: release the whole hold."""
    _ask(merchant, hold_id, HoldStep.RELEASE, 0, reason)


@holds_app.command("cancel-completion")
def cancel_completion(
    merchant: MerchantOpt, hold_id: Annotated[str, typer.Argument(help="the hold (hld_…)")], reason: str = ""
) -> None:
    """预授权完成撤销: undo today's completion; the hold is back."""
    _ask(merchant, hold_id, HoldStep.CANCEL_COMPLETION, 0, reason)


@holds_app.command("expire")
def expire() -> None:
    """Mark expired the holds past their validity (the worker does this about once a minute)."""
    from posrefund.service import fund_holds

    out.print(f"已过期 {fund_holds.expire_holds(build_deps())} 笔")
