"""``posrefund deposits …``: the merchant's deposit terms (定金 / 订金 / 押金), deposits recorded with them, refund
proposals computed by the terms, a supervisor's override and acceptance, and the deposits held beyond their
terms (``flag-overdue`` is the worker's housekeeping step, run by hand)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Annotated, Any, TypeVar

import typer
from rich.table import Table

from posrefund.domain.deposits import DepositKind, kind_label
from posrefund.domain.errors import DomainError
from posrefund.domain.money import format_yuan
from posrefund.domain.roles import SYSTEM_ACTOR, Role
from posrefund.entrypoints.cli.common import JsonOpt, MerchantOpt, acting_as, app, build_deps, fail, out, print_json
from posrefund.service.deps import Deps

T = TypeVar("T")
deposits_app = typer.Typer(help="deposits / 定金、订金、押金", no_args_is_help=True, add_completion=False)
app.add_typer(deposits_app, name="deposits")
DepositArg = Annotated[str, typer.Argument(help="deposit id")]
ProposalArg = Annotated[str, typer.Argument(help="proposal id")]


def _run(call: Callable[[Deps], T]) -> T:
    """One use case with the environment's dependencies; a refusal exits 1 with its code and message."""
    deps = build_deps()
    try:
        return call(deps)
    except DomainError as exc:
        fail(exc)


def _label(kind: str) -> str:
    return kind_label(DepositKind(kind))[0]


@deposits_app.command("terms-add")
def terms_add(
    merchant: MerchantOpt,
    name: Annotated[str, typer.Option(help="the template's name")],
    kind: Annotated[str, typer.Option(help="deposit 定金 | advance 订金 | security 押金")],
    hold_days: Annotated[int, typer.Option(help="due back this many days after payment")],
    costs_deductible: Annotated[bool, typer.Option(help="订金: documented costs may be deducted")] = False,
    max_deduction_bp: Annotated[int, typer.Option(help="deductions at most this share, in 1/10,000")] = 10_000,
    text: Annotated[str, typer.Option(help="the terms as the customer is shown them")] = "",
    as_json: JsonOpt = False,
) -> None:
    """A new terms template for the merchant (audited)."""
    from posrefund.service.deposits.terms import create_terms

    row = _run(
        lambda d: create_terms(
            d,
            acting_as(d, merchant, Role.SUPERVISOR),
            name=name,
            kind=kind,
            hold_days=hold_days,
            costs_deductible=costs_deductible,
            max_deduction_bp=max_deduction_bp,
            text=text,
        )
    )
    if as_json:
        print_json(row)
        return
    out.print(f"条款 terms {row['id']}：{row['name']}（{_label(row['kind'])}，{row['hold_days']} 天）")


@deposits_app.command("terms")
def terms_list(merchant: MerchantOpt, as_json: JsonOpt = False) -> None:
    """The merchant's terms templates."""
    from posrefund.service.deposits.terms import list_terms

    rows = _run(lambda d: list_terms(d, acting_as(d, merchant, Role.SUPERVISOR)))
    if as_json:
        print_json({"items": rows})
        return
    table = Table("id", "name / 名称", "kind / 类型", "days / 天数", "costs / 可扣成本", title="deposit terms / 条款")
    for t in rows:
        table.add_row(
            t["id"], t["name"], _label(t["kind"]), str(t["hold_days"]), "是" if t["costs_deductible"] else "否"
        )
    out.print(table)


@deposits_app.command("attach")
def attach(
    merchant: MerchantOpt,
    sale: Annotated[str, typer.Option(help="the deposit payment's sale id")],
    terms: Annotated[str, typer.Option(help="terms template id")],
    contract_value_fen: Annotated[int, typer.Option(help="the contract's value in fen (定金: its 20 % cap)")],
    held_until: Annotated[datetime | None, typer.Option(formats=["%Y-%m-%d"], help="due back by (local date)")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Record a deposit: attach terms to a deposit payment already recorded (audited)."""
    from posrefund.service.deposits.holding import record_deposit

    row = _run(
        lambda d: record_deposit(
            d,
            acting_as(d, merchant, Role.SUPERVISOR),
            sale_id=sale,
            terms_id=terms,
            contract_value_fen=contract_value_fen,
            held_until=held_until.date() if held_until else None,
        )
    )
    if as_json:
        print_json(row)
        return
    out.print(f"{_label(row['kind'])} {row['id']}：{format_yuan(row['amount_fen'])}，退还期限 {row['held_until']}")


def _deposits_table(rows: Sequence[Mapping[str, Any]], title: str) -> Table:
    table = Table("id", "kind / 类型", "amount / 金额", "held until / 期限", "status / 状态", title=title)
    for r in rows:
        table.add_row(r["id"], _label(r["kind"]), format_yuan(r["amount_fen"]), str(r["held_until"]), r["status"])
    return table


@deposits_app.command("list")
def list_(
    merchant: MerchantOpt,
    status: Annotated[str | None, typer.Option(help="held | settling")] = None,
    as_json: JsonOpt = False,
) -> None:
    """The merchant's deposits, newest first."""
    from posrefund.service.deposits.holding import list_deposits

    rows = _run(lambda d: list_deposits(d, acting_as(d, merchant, Role.SUPERVISOR), status))
    if as_json:
        print_json({"items": rows})
        return
    out.print(_deposits_table(rows, "deposits / 定金、订金、押金"))


@deposits_app.command("overdue")
def overdue(merchant: MerchantOpt, as_json: JsonOpt = False) -> None:
    """Deposits still held after the date their terms say they are due back."""
    from posrefund.service.deposits.holding import list_overdue

    rows = _run(lambda d: list_overdue(d, acting_as(d, merchant, Role.SUPERVISOR)))
    if as_json:
        print_json({"items": rows})
        return
    out.print(_deposits_table(rows, "held beyond their terms / 超期未退"))


@deposits_app.command("flag-overdue")
def flag_overdue() -> None:
    """Flag, once each, the deposits of every merchant held beyond their terms (the worker does this too)."""
    from posrefund.service.deposits.holding import flag_overdue as flag

    out.print(f"flagged / 已标记 {_run(lambda d: flag(d, SYSTEM_ACTOR))}")


def _print_proposal(row: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print_json(row)
        return
    f = row["figures"]
    out.print(f"方案 proposal {row['id']}（{row['status']}）")
    for step in f["steps"]:
        out.print(f"  · {step['zh']}")
    out.print(f"原路退还 back {format_yuan(row['back_now_fen'])}，罚金 penalty {format_yuan(row['penalty_now_fen'])}")


@deposits_app.command("propose")
def propose(
    merchant: MerchantOpt,
    deposit: DepositArg,
    ending: Annotated[str, typer.Option(help="customer_breach | merchant_breach | both_breach | mutual | ...")],
    deduction: Annotated[
        list[str] | None, typer.Option(help="AMOUNT_FEN:REASON:EVIDENCE_ID, once per cost or deduction")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """What goes back by the terms for how the deal ended, step by step (audited)."""
    from posrefund.service.deposits.proposals import propose as run

    items = [_deduction(text) for text in deduction or []]
    row = _run(lambda d: run(d, acting_as(d, merchant, Role.CASHIER), deposit, ending=ending, deductions=items))
    _print_proposal(dict(row), as_json)


def _deduction(text: str) -> dict[str, Any]:
    amount, _, rest = text.partition(":")
    reason, _, evidence_id = rest.rpartition(":")
    if not amount.isdigit():
        raise typer.BadParameter(f"{text!r}: AMOUNT_FEN:REASON:EVIDENCE_ID")
    return {"amount_fen": int(amount), "reason": reason, "evidence_id": evidence_id}


@deposits_app.command("override")
def override(
    merchant: MerchantOpt,
    deposit: DepositArg,
    proposal: ProposalArg,
    back_total_fen: Annotated[int, typer.Option(help="back by the original route, in all")],
    reason: Annotated[str, typer.Option(help="why the terms' amount is overridden")],
    penalty_total_fen: Annotated[int, typer.Option(help="the 定金 penalty, in all")] = 0,
    as_json: JsonOpt = False,
) -> None:
    """A supervisor's amounts in place of the terms', with a reason (audited)."""
    from posrefund.service.deposits.proposals import override as run

    row = _run(
        lambda d: run(
            d,
            acting_as(d, merchant, Role.SUPERVISOR),
            deposit,
            proposal,
            back_total_fen=back_total_fen,
            penalty_total_fen=penalty_total_fen,
            reason=reason,
        )
    )
    _print_proposal(dict(row), as_json)


@deposits_app.command("accept")
def accept(merchant: MerchantOpt, deposit: DepositArg, proposal: ProposalArg, as_json: JsonOpt = False) -> None:
    """Accept a proposal: the refund by the original route and, for a double return, the penalty payout."""
    from posrefund.service.deposits.proposals import accept as run

    result = _run(lambda d: run(d, acting_as(d, merchant, Role.SUPERVISOR), deposit, proposal))
    case, payout = result["refund"], result["payout"]
    data = {
        "proposal_id": result["proposal"]["id"],
        "refund": {"id": case.id, "amount_fen": case.amount_fen, "status": case.status.value} if case else None,
        "payout": payout,
    }
    if as_json:
        print_json(data)
        return
    if case is not None:
        out.print(f"退款 refund {case.id}：{format_yuan(case.amount_fen)}（{case.status.value}）")
    if payout is not None:
        out.print(f"罚金转账 penalty transfer {payout['id']}：{format_yuan(payout['amount_fen'])}，待确认已付")
