"""Deposits recorded on sales: attached to a payment with its terms (or recorded with the payment at once),
read with their proposals and payouts, and flagged when held beyond their terms."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any

from posrefund.domain.deposits import DepositFacts, DepositKind, check_facts
from posrefund.domain.errors import Conflict, Invalid, NotFound
from posrefund.domain.roles import SYSTEM_ACTOR, Actor
from posrefund.domain.sale import Sale
from posrefund.ports import UnitOfWork
from posrefund.ports.deposits import DepositRow, TermsRow
from posrefund.service import sales
from posrefund.service.deposits.terms import whole
from posrefund.service.deps import Deps
from posrefund.service.records import record
from posrefund.service.sales import SaleInput

MAX_CONTRACT_FEN = 100_000_000_00 * 5  # five times the largest sale: a 定金 is at least 20 % of its contract
HELD = "held"
SETTLING = "settling"


def load_deposit(uow: UnitOfWork, actor: Actor, deposit_id: str) -> DepositRow:
    """The deposit of the actor's own merchant; another merchant's does not exist for it."""
    row = uow.deposits.get_deposit(actor.merchant_id or "", deposit_id)
    if row is None:
        raise NotFound("deposit.not_found")
    return row


def load_terms(uow: UnitOfWork, merchant_id: str, terms_id: str) -> TermsRow:
    terms = uow.deposits.get_terms(merchant_id, terms_id)
    if terms is None:
        raise NotFound("deposit.terms_not_found")
    return terms


def facts_of(deposit: DepositRow, terms: TermsRow) -> DepositFacts:
    """What the arithmetic needs, from the deposit and the terms it was recorded under."""
    return DepositFacts(
        kind=DepositKind(deposit["kind"]),
        paid_fen=int(deposit["amount_fen"]),
        contract_value_fen=int(deposit["contract_value_fen"]),
        currency=deposit["currency"],
        costs_deductible=bool(terms["costs_deductible"]),
        max_deduction_bp=int(terms["max_deduction_bp"]),
    )


def _new_row(
    deps: Deps, actor: Actor, sale: Sale, terms: TermsRow, contract: int, held_until: date | None
) -> DepositRow:
    if sale.kind.value != terms["kind"]:
        raise Invalid("deposit.sale_not_deposit", sale_kind=sale.kind.value, kind=terms["kind"])
    contract = whole(contract, "contract_value_fen", 0, MAX_CONTRACT_FEN)
    now = deps.clock.now()
    due = held_until or deps.local_date(sale.paid_at) + timedelta(days=int(terms["hold_days"]))
    if due < deps.local_date(sale.paid_at):
        raise Invalid("deposit.invalid_field", field="held_until")
    row: DepositRow = {
        "id": deps.ids.new_id("dep"),
        "merchant_id": sale.merchant_id,
        "sale_id": sale.id,
        "terms_id": terms["id"],
        "kind": terms["kind"],
        "contract_value_fen": contract,
        "amount_fen": sale.amount_fen,
        "currency": sale.currency,
        "held_until": due,
        "status": HELD,
        "allowed_back_fen": None,
        "overdue_flagged_at": None,
        "recorded_by": actor.id,
        "created_at": now,
        "updated_at": now,
        "version": 1,
    }
    check_facts(facts_of(row, terms))
    return row


def record_deposit(
    deps: Deps, actor: Actor, *, sale_id: str, terms_id: str, contract_value_fen: int, held_until: date | None = None
) -> DepositRow:
    """Attach terms to a deposit payment already recorded: the sale's kind must be the terms' kind, so a 定金
    is never handled as a 订金 because of a word mixed up at the counter."""
    actor.require("deposit.record")
    merchant_id = actor.merchant_id or ""
    with deps.uow() as uow:
        sale = uow.sales.get_sale(merchant_id, sale_id)
        if sale is None:
            raise NotFound("sale.not_found")
        terms = load_terms(uow, merchant_id, terms_id)
        row = _new_row(deps, actor, sale, terms, contract_value_fen, held_until)
        if not uow.deposits.add_deposit(row):
            raise Conflict("deposit.already_recorded", sale_id=sale_id)
        record(
            uow,
            actor,
            merchant_id,
            "deposit.recorded",
            row["created_at"],
            case_id=row["id"],
            after=HELD,
            sale_id=sale.id,
            kind=row["kind"],
            amount_fen=row["amount_fen"],
            contract_value_fen=row["contract_value_fen"],
            held_until=row["held_until"].isoformat(),
        )
        uow.commit()
    return row


def record_deposit_sale(
    deps: Deps, actor: Actor, sale: SaleInput, *, terms_id: str, contract_value_fen: int, held_until: date | None = None
) -> tuple[Sale, DepositRow]:
    """The deposit payment and its terms in one transaction: the sale takes the terms' kind."""
    actor.require("deposit.record")
    with deps.uow(readonly=True) as uow:
        terms = load_terms(uow, actor.merchant_id or "", terms_id)
    with deps.uow.batch():
        recorded = sales.record_sale(deps, actor, replace(sale, kind=terms["kind"]))
        row = record_deposit(
            deps,
            actor,
            sale_id=recorded.id,
            terms_id=terms_id,
            contract_value_fen=contract_value_fen,
            held_until=held_until,
        )
    return recorded, row


def get_deposit(deps: Deps, actor: Actor, deposit_id: str) -> dict[str, Any]:
    """The deposit with its terms, its sale's refund figures, its proposals, payouts and audit trail."""
    actor.require("deposit.read")
    with deps.uow(readonly=True) as uow:
        row = load_deposit(uow, actor, deposit_id)
        sale = uow.sales.get_sale(row["merchant_id"], row["sale_id"])
        assert sale is not None
        return {
            **row,
            "terms": load_terms(uow, row["merchant_id"], row["terms_id"]),
            "refunded_fen": sale.refunded_fen,
            "reserved_fen": sale.reserved_fen,
            "proposals": uow.deposits.proposals_of(row["id"]),
            "payouts": uow.deposits.payouts_of(row["id"]),
            "events": uow.audit.case_events(row["merchant_id"], row["id"]),
        }


def list_deposits(deps: Deps, actor: Actor, status: str | None = None, limit: int = 100) -> list[DepositRow]:
    actor.require("deposit.read")
    with deps.uow(readonly=True) as uow:
        return uow.deposits.list_deposits(actor.merchant_id or "", status, max(1, min(limit, 500)))


def list_overdue(deps: Deps, actor: Actor, limit: int = 200) -> list[DepositRow]:
    """The supervisor's list: deposits still held after the date their terms say they are due back."""
    actor.require("deposit.overdue")
    today = deps.local_date(deps.clock.now())
    with deps.uow(readonly=True) as uow:
        return uow.deposits.overdue(actor.merchant_id or "", today, max(1, min(limit, 1000)))


def flag_overdue(deps: Deps, actor: Actor = SYSTEM_ACTOR, limit: int = 500) -> int:
    """Housekeeping: each deposit held beyond its terms is flagged once (an audit event on its trail, seen by
    the merchant's auditors); how many were flagged now."""
    actor.require("deposit.overdue")
    now = deps.clock.now()
    flagged = 0
    with deps.uow() as uow:
        for row in uow.deposits.overdue(None, deps.local_date(now), limit, unflagged_only=True):
            row["overdue_flagged_at"] = now
            if not uow.deposits.save_deposit(row):
                continue  # changed meanwhile: the next round looks again
            record(uow, actor, row["merchant_id"], "deposit.overdue_flagged", now, case_id=row["id"], **_due(row, now))
            flagged += 1
        uow.commit()
    return flagged


def _due(row: DepositRow, now: datetime) -> dict[str, Any]:
    return {"held_until": row["held_until"].isoformat(), "amount_fen": row["amount_fen"], "flagged_at": now.isoformat()}
