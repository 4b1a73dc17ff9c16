"""Refund proposals for a deposit: computed from its terms and the recorded ending (domain/deposits.py),
overridden by a supervisor with a reason, and accepted — the original-route part as a normal refund through
the core (routing, review, channel, notifications, audit), the penalty of a double return (定金罚则) as a bank
transfer payout linked to it, confirmed paid by a second person.

Accepting sets the deposit's *allowance*: the most that may ever go back through the original route. Every
refund of the deposit's sale, through this flow or straight through ``POST /v1/refunds``, is held to it by the
core (``service/refunds.py``), so nothing goes back beyond the terms without a recorded override."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict
from typing import Any

from posrefund.domain import deposits as arithmetic
from posrefund.domain.deposits import Deduction, DepositKind, Ending, Proposal, Returned, Step
from posrefund.domain.errors import Conflict, Invalid, NotFound
from posrefund.domain.pii import refuse_card_data
from posrefund.domain.refund import RefundCase
from posrefund.domain.roles import Actor
from posrefund.ports import UnitOfWork
from posrefund.ports.deposits import DepositRow, PayoutRow, ProposalRow
from posrefund.service import refunds
from posrefund.service.deposits import settling
from posrefund.service.deposits.holding import SETTLING, facts_of, load_deposit, load_terms
from posrefund.service.deps import Deps
from posrefund.service.records import record, record_on_case
from posrefund.service.refunds import CustomerInput, RefundRequest

PROPOSED = "proposed"
ACCEPTED = "accepted"
AWAITING = "awaiting_transfer"


def already_returned(uow: UnitOfWork, deposit: DepositRow) -> Returned:
    """What went back so far: refunded or on its way through the original route (any refund of the sale,
    whatever started it), and the penalty payouts not cancelled."""
    sale = uow.sales.get_sale(deposit["merchant_id"], deposit["sale_id"])
    assert sale is not None
    penalty = sum(int(p["amount_fen"]) for p in uow.deposits.payouts_of(deposit["id"]) if p["status"] != "cancelled")
    return Returned(sale.refunded_fen + sale.reserved_fen, penalty)


def _figures(p: Proposal) -> dict[str, Any]:
    out = asdict(p)
    out["kind"], out["ending"] = p.kind.value, p.ending.value
    return out


def _proposal(figures: Mapping[str, Any]) -> Proposal:
    data = dict(figures)
    data["kind"], data["ending"] = DepositKind(data["kind"]), Ending(data["ending"])
    data["steps"] = tuple(Step(**s) for s in data["steps"])
    return Proposal(**data)


def _deductions(items: Sequence[Mapping[str, Any]]) -> list[Deduction]:
    out = []
    for i, item in enumerate(items):
        reason, ref = str(item.get("reason", "")), str(item.get("evidence_id", ""))
        refuse_card_data(reason, f"deductions[{i}].reason")
        out.append(Deduction(item.get("amount_fen"), reason, ref))  # type: ignore[arg-type]  # checked by the domain
    return out


def _ending(value: str) -> Ending:
    try:
        return Ending(value)
    except ValueError:
        raise Invalid("deposit.invalid_ending", ending=value) from None


def propose(
    deps: Deps, actor: Actor, deposit_id: str, *, ending: str, deductions: Sequence[Mapping[str, Any]] = ()
) -> ProposalRow:
    """What goes back for this ending, from the deposit's terms and what already went back; each deduction
    names its reason and an uploaded piece of evidence."""
    actor.require("deposit.propose")
    typed, items = _ending(ending), _deductions(deductions)
    now = deps.clock.now()
    with deps.uow() as uow:
        deposit = load_deposit(uow, actor, deposit_id)
        terms = load_terms(uow, deposit["merchant_id"], deposit["terms_id"])
        already = already_returned(uow, deposit)
        p = arithmetic.propose(facts_of(deposit, terms), typed, items, already)
        wanted = list(dict.fromkeys(d.evidence_ref for d in items))
        if len(uow.evidence.evidence_rows(deposit["merchant_id"], wanted)) != len(wanted):
            raise Invalid("evidence.not_found")
        row: ProposalRow = {
            "id": deps.ids.new_id("dpp"),
            "merchant_id": deposit["merchant_id"],
            "deposit_id": deposit["id"],
            "status": PROPOSED,
            "ending": typed.value,
            "deductions": [asdict(d) for d in items],
            "figures": _figures(p),
            "back_now_fen": p.back_now_fen,
            "penalty_now_fen": p.penalty_now_fen,
            "basis_back_fen": already.back_fen,
            "basis_penalty_fen": already.penalty_fen,
            "override_reason": "",
            "overridden_by": "",
            "created_by": actor.id,
            "created_at": now,
            "decided_by": "",
            "decided_at": None,
            "refund_id": None,
            "payout_id": "",
            "version": 1,
        }
        uow.deposits.add_proposal(row)
        record(
            uow,
            actor,
            row["merchant_id"],
            "deposit.proposed",
            now,
            case_id=deposit["id"],
            proposal_id=row["id"],
            ending=typed.value,
            back_fen=p.back_now_fen,
            penalty_fen=p.penalty_now_fen,
        )
        uow.commit()
    return row


def _open_proposal(uow: UnitOfWork, actor: Actor, deposit: DepositRow, proposal_id: str) -> ProposalRow:
    prop = uow.deposits.get_proposal(actor.merchant_id or "", proposal_id)
    if prop is None or prop["deposit_id"] != deposit["id"]:
        raise NotFound("deposit.proposal_not_found")
    if prop["status"] != PROPOSED:
        raise Conflict("deposit.proposal_closed", status=prop["status"])
    return prop


def override(
    deps: Deps,
    actor: Actor,
    deposit_id: str,
    proposal_id: str,
    *,
    back_total_fen: int,
    penalty_total_fen: int,
    reason: str,
) -> ProposalRow:
    """A supervisor's amounts in place of the terms', with the reason on the proposal and in the audit trail."""
    actor.require("deposit.decide")
    refuse_card_data(reason, "reason")
    now = deps.clock.now()
    with deps.uow() as uow:
        deposit = load_deposit(uow, actor, deposit_id)
        prop = _open_proposal(uow, actor, deposit, proposal_id)
        before = {"back_fen": prop["back_now_fen"], "penalty_fen": prop["penalty_now_fen"]}
        basis = Returned(prop["basis_back_fen"], prop["basis_penalty_fen"])
        p = arithmetic.override(
            _proposal(prop["figures"]), back_total_fen, penalty_total_fen, reason.strip(), basis, deposit["currency"]
        )
        prop.update({"figures": _figures(p), "back_now_fen": p.back_now_fen, "penalty_now_fen": p.penalty_now_fen})
        prop.update({"override_reason": reason.strip(), "overridden_by": actor.id})
        if not uow.deposits.save_proposal(prop):
            raise Conflict("deposit.changed")
        after = {"back_fen": p.back_now_fen, "penalty_fen": p.penalty_now_fen}
        record(
            uow,
            actor,
            deposit["merchant_id"],
            "deposit.overridden",
            now,
            case_id=deposit["id"],
            reason=reason.strip(),
            proposal_id=prop["id"],
            before_amounts=before,
            after_amounts=after,
        )
        uow.commit()
    return prop


def _decide(deps: Deps, actor: Actor, deposit_id: str, proposal_id: str) -> tuple[DepositRow, ProposalRow]:
    """The proposal accepted and the deposit's allowance set, refused when anything went back since it was
    computed (its arithmetic would count it twice or not at all)."""
    now = deps.clock.now()
    with deps.uow() as uow:
        deposit = load_deposit(uow, actor, deposit_id)
        prop = _open_proposal(uow, actor, deposit, proposal_id)
        already = already_returned(uow, deposit)
        if (already.back_fen, already.penalty_fen) != (prop["basis_back_fen"], prop["basis_penalty_fen"]):
            raise Conflict("deposit.proposal_stale")
        before = deposit["status"]
        deposit.update(
            {"allowed_back_fen": already.back_fen + prop["back_now_fen"], "status": SETTLING, "updated_at": now}
        )
        prop.update({"status": ACCEPTED, "decided_by": actor.id, "decided_at": now})
        if not (uow.deposits.save_deposit(deposit) and uow.deposits.save_proposal(prop)):
            raise Conflict("deposit.changed")
        record(
            uow,
            actor,
            deposit["merchant_id"],
            "deposit.accepted",
            now,
            case_id=deposit["id"],
            before=before,
            after=SETTLING,
            proposal_id=prop["id"],
            allowed_back_fen=deposit["allowed_back_fen"],
            overridden=bool(prop["overridden_by"]),
        )
        uow.commit()
    return deposit, prop


def _link(
    deps: Deps, actor: Actor, deposit: DepositRow, prop: ProposalRow, case: RefundCase | None
) -> PayoutRow | None:
    """The penalty payout (if any) made and linked to the refund; the links on both timelines."""
    now = deps.clock.now()
    payout: PayoutRow | None = None
    with deps.uow() as uow:
        if prop["penalty_now_fen"] > 0:
            payout = {
                "id": deps.ids.new_id("dpo"),
                "merchant_id": deposit["merchant_id"],
                "deposit_id": deposit["id"],
                "proposal_id": prop["id"],
                "refund_id": case.id if case else None,
                "amount_fen": prop["penalty_now_fen"],
                "currency": deposit["currency"],
                "method": "transfer",
                "status": AWAITING,
                "reference": "",
                "cancel_reason": "",
                "created_by": actor.id,
                "created_at": now,
                "confirmed_by": "",
                "confirmed_at": None,
                "version": 1,
            }
            uow.deposits.add_payout(payout)
        prop.update({"refund_id": case.id if case else None, "payout_id": payout["id"] if payout else ""})
        if not uow.deposits.save_proposal(prop):
            raise Conflict("deposit.changed")
        record(
            uow,
            actor,
            deposit["merchant_id"],
            "deposit.refunds_linked",
            now,
            case_id=deposit["id"],
            back_fen=prop["back_now_fen"],
            penalty_fen=prop["penalty_now_fen"],
            refund_id=prop["refund_id"],
            payout_id=prop["payout_id"],
            proposal_id=prop["id"],
        )
        if case is not None and payout is not None:
            record_on_case(
                uow,
                actor,
                case,
                "deposit.penalty_linked",
                now,
                deposit_id=deposit["id"],
                penalty_fen=payout["amount_fen"],
                payout_id=payout["id"],
            )
        settling.settle_if_paid(uow, deposit["sale_id"], now, actor)  # nothing to give back: over at once
        uow.commit()
    return payout


def accept(
    deps: Deps, actor: Actor, deposit_id: str, proposal_id: str, *, customer: CustomerInput | None = None
) -> dict[str, Any]:
    """Accept a proposal: the allowance, the refund by the original route and the penalty payout, all in one
    transaction — a refund the core refuses leaves nothing behind."""
    actor.require("deposit.decide")
    with deps.uow.batch():
        deposit, prop = _decide(deps, actor, deposit_id, proposal_id)
        case = None
        if prop["back_now_fen"] > 0:
            request = RefundRequest(
                sale_id=deposit["sale_id"],
                amount_fen=prop["back_now_fen"],
                reason="deposit_return",
                note=f"按条款退还 {deposit['id']} 方案 {prop['id']}",
                customer=customer or CustomerInput(),
            )
            case = refunds.request_refund(deps, actor, request)
        payout = _link(deps, actor, deposit, prop, case)
    return {"proposal": prop, "refund": case, "payout": payout}
