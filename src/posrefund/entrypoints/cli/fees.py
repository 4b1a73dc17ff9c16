"""``posrefund fees``: a merchant's fee contract (loaded from TOML), the fee-refund check with its statement, the
cases' approval and transfer, and one-off charges asked back. Each step names the person who takes it
(``--operator``): who opens a case never approves it, who approves never records the transfer."""

from __future__ import annotations

import tomllib
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from posrefund.domain.errors import DomainError
from posrefund.domain.fee_charges import ChargeTerms, OneOffCharge, PayoutCase
from posrefund.domain.fees import FeePeriod, FeeRule, StatementLine, yuan
from posrefund.domain.roles import Actor, Role
from posrefund.entrypoints.cli.common import (
    JsonOpt,
    MerchantOpt,
    build_deps,
    emit,
    err,
    fail,
    fees_app,
    merchant_id,
    out,
    print_json,
)

OperatorOpt = Annotated[str, typer.Option("--operator", help="who takes this step (recorded in the audit trail)")]
DateOpt = Annotated[str, typer.Option(help="YYYY-MM-DD")]


def _actor(merchant: str, operator: str) -> tuple[Any, Actor, str]:
    deps = build_deps()
    mid = merchant_id(deps, merchant)
    return deps, Actor(f"cli:{operator}", Role.FINANCE, mid, operator), mid


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        err.print(f"[red]request.invalid[/red]: {text!r} is not a date (YYYY-MM-DD)")
        raise typer.Exit(1) from None


def period_from_toml(doc: dict[str, Any]) -> FeePeriod:
    """``effective_from = 2026-12-01``, optional ``effective_to``, ``consented_on``, ``consent_ref`` and one
    ``[[rules]]`` table per rule (``channel``, ``card_type``, ``rate_ppm``, ``band_from_fen``, ``cap_fen``,
    ``min_fen``, ``returned_on_refund``): docs/fees.md has an example."""
    rules = tuple(FeeRule(**r) for r in doc.get("rules", []))
    return FeePeriod(
        doc["effective_from"], rules, doc.get("effective_to"), doc.get("consented_on"), str(doc.get("consent_ref", ""))
    )


@fees_app.command("contract-add")
def contract_add(merchant: MerchantOpt, file: Path, operator: OperatorOpt = "cli", as_json: JsonOpt = False) -> None:
    """Add a period of fee rates from a TOML file (a change is a new period; history is never rewritten)."""
    from posrefund.service import fees

    deps, actor, mid = _actor(merchant, operator)
    try:
        doc = tomllib.loads(file.read_text(encoding="utf-8"))
        period = fees.add_period(deps, actor, mid, period_from_toml(doc))
    except (OSError, tomllib.TOMLDecodeError, KeyError, TypeError) as exc:
        err.print(f"[red]cannot read {file}: {exc}[/red]")
        raise typer.Exit(1) from None
    except DomainError as exc:
        fail(exc)
    emit({"id": period.id, "effective_from": str(period.effective_from), "rules": len(period.rules)}, as_json, "期间")


@fees_app.command("contract")
def contract_show(merchant: MerchantOpt, as_json: JsonOpt = False) -> None:
    """The merchant's fee contract, period by period, in the contract's words."""
    from posrefund.service import fees

    deps, actor, mid = _actor(merchant, "cli")
    periods = fees.periods(deps, actor, mid)
    if as_json:
        print_json([
            {"id": p.id, "from": str(p.effective_from), "to": str(p.effective_to or ""),
             "consented_on": str(p.consented_on or ""), "consent_ref": p.consent_ref,
             "rules": [r.describe() for r in p.rules]}
            for p in periods
        ])  # fmt: skip
        return
    table = Table("期间", "自", "至", "商户同意", "费率")
    for p in periods:
        agreed = f"{p.consented_on}（{p.consent_ref}）" if p.consented_on else "未同意"
        rules = "\n".join(r.describe() for r in p.rules)
        table.add_row(p.id, str(p.effective_from), str(p.effective_to or "—"), agreed, rules)
    out.print(table)


@fees_app.command("consent")
def consent(
    merchant: MerchantOpt,
    period_id: str,
    on: DateOpt,
    ref: Annotated[str, typer.Option()],
    operator: OperatorOpt = "cli",
) -> None:
    """Record the merchant's consent to a period (date and reference of the signed notice)."""
    from posrefund.service import fees

    deps, actor, mid = _actor(merchant, operator)
    try:
        fees.record_consent(deps, actor, mid, period_id, _day(on), ref)
    except DomainError as exc:
        fail(exc)
    out.print(f"已记录：商户于 {on} 同意（{ref}）")


@fees_app.command("check")
def check(
    merchant: MerchantOpt,
    date_from: Annotated[str, typer.Option("--from")],
    date_to: Annotated[str, typer.Option("--to")],
    operator: OperatorOpt = "cli",
    as_json: JsonOpt = False,
) -> None:
    """Recompute the fees charged over the dates; open a fee-refund case for what was overcharged."""
    from posrefund.service import fees

    deps, actor, mid = _actor(merchant, operator)
    try:
        case, statement = fees.check_overcharges(deps, actor, mid, _day(date_from), _day(date_to))
    except DomainError as exc:
        fail(exc)
    _show(case, statement, as_json)


@fees_app.command("case")
def show_case(merchant: MerchantOpt, payout_id: str, as_json: JsonOpt = False) -> None:
    """A fee-refund or charge-refund case with its line-by-line statement."""
    from posrefund.service import fees

    deps, actor, mid = _actor(merchant, "cli")
    try:
        case, statement = fees.payout(deps, actor, mid, payout_id)
    except DomainError as exc:
        fail(exc)
    _show(case, statement, as_json)


def _show(case: PayoutCase | None, statement: list[StatementLine], as_json: bool) -> None:
    lines = [s.as_row() for s in statement]
    if as_json:
        print_json({"case": _case(case) if case else None, "statement": lines})
        return
    if case is None:
        out.print("各笔手续费均符合合同约定，未发现多收。")
        return
    out.print(f"{case.id}  {case.status.value}  {yuan(case.amount_fen)} 元  {case.explanation}")
    table = Table("行", "日期", "类型", "金额", "实收手续费", "应收手续费", "差额", "依据")
    for s in statement:
        table.add_row(str(s.line_no), str(s.day), s.kind, yuan(s.amount_fen), yuan(s.charged_fen), yuan(s.due_fen),
                      yuan(s.difference_fen), s.rule)  # fmt: skip
    out.print(table)


def _case(c: PayoutCase) -> dict[str, Any]:
    return {"id": c.id, "kind": c.kind, "status": c.status.value, "amount_fen": c.amount_fen,
            "explanation": c.explanation, "transfer_ref": c.transfer_ref}  # fmt: skip


@fees_app.command("approve")
def approve(merchant: MerchantOpt, payout_id: str, operator: OperatorOpt) -> None:
    """Approve a case (not who opened it)."""
    from posrefund.service import fees

    deps, actor, mid = _actor(merchant, operator)
    try:
        case = fees.approve(deps, actor, mid, payout_id)
    except DomainError as exc:
        fail(exc)
    out.print(f"{case.id} 已批准：{yuan(case.amount_fen)} 元")


@fees_app.command("pay")
def pay(
    merchant: MerchantOpt, payout_id: str, transfer_ref: Annotated[str, typer.Option()], operator: OperatorOpt
) -> None:
    """Record the transfer to the merchant's settlement account (not who approved it)."""
    from posrefund.service import fees

    deps, actor, mid = _actor(merchant, operator)
    try:
        case = fees.pay(deps, actor, mid, payout_id, transfer_ref)
    except DomainError as exc:
        fail(exc)
    out.print(f"{case.id} 已付款：{yuan(case.amount_fen)} 元，转账流水号 {case.transfer_ref}")


@fees_app.command("charge-add")
def charge_add(
    merchant: MerchantOpt,
    kind: Annotated[str, typer.Option(help="activation / service / device")],
    amount_fen: Annotated[int, typer.Option()],
    charged_on: DateOpt,
    terms: Annotated[str, typer.Option(help="volume / device_return / none")] = "none",
    volume_fen: Annotated[int, typer.Option()] = 0,
    within_days: Annotated[int, typer.Option()] = 0,
    channels: Annotated[str, typer.Option(help="comma-separated, for volume terms")] = "card",
    as_json: JsonOpt = False,
) -> None:
    """Record a one-off charge (e.g. the 299-yuan activation fee) and the terms on which it comes back."""
    from posrefund.service import fees

    deps = build_deps()
    mid = merchant_id(deps, merchant)
    try:
        t = ChargeTerms(terms, volume_fen, within_days, tuple(channels.split(",")))
        day = _day(charged_on)
        charge = OneOffCharge("", mid, kind, amount_fen, day, day, t)
        charge = fees.record_charge(deps, Actor("cli", Role.ADMIN, mid), charge)
    except DomainError as exc:
        fail(exc)
    emit({"id": charge.id, "kind": charge.kind, "amount": yuan(charge.amount_fen)}, as_json, "费用")


@fees_app.command("charge-refund")
def charge_refund(
    merchant: MerchantOpt,
    charge_id: str,
    device_returned_on: Annotated[str, typer.Option(help="YYYY-MM-DD, for device terms")] = "",
    operator: OperatorOpt = "cli",
) -> None:
    """Ask for a one-off charge back: decided on its terms, with the computation."""
    from posrefund.service import fees

    deps, actor, mid = _actor(merchant, operator)
    try:
        returned = _day(device_returned_on) if device_returned_on else None
        decision, case = fees.request_charge_refund(deps, actor, mid, charge_id, returned)
    except DomainError as exc:
        fail(exc)
    out.print(f"{'可退' if decision.refundable else '不予退还'}（{case.id}）：{decision.explanation}")
