"""The provider's decision on a received device, within its 3 working days: a full refund, a partial refund
with itemised deductions, a replacement (a new SN linked to the old), or a rejection with its reason. A refund
is a normal refund of the device charge in the provider's seller record, so the channels, the worker, the
notifications and the core's never-over-refunded rule carry it."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from datetime import datetime

from posrefund.domain import device_return as dr
from posrefund.domain.device_return import Decision, ReturnStatus, TerminalState
from posrefund.domain.errors import Conflict, Invalid
from posrefund.domain.free_text import free_text
from posrefund.domain.identifiers import is_identifier
from posrefund.domain.merchant_notice import DECISION_EVENTS
from posrefund.domain.money import format_yuan
from posrefund.domain.notification import NotifyEvent
from posrefund.domain.roles import Actor
from posrefund.ports import UnitOfWork
from posrefund.ports.provider import DeviceRow, ReturnRow
from posrefund.service import execution, refunds
from posrefund.service.deps import Deps
from posrefund.service.notifications import merchant_messages
from posrefund.service.provider.desk import desk_of, seller_actor
from posrefund.service.provider.returns import audit, load, move_device, save, tell_step
from posrefund.service.refunds import CustomerInput, RefundRequest


@dataclass(frozen=True)
class DecisionInput:
    decision: str
    reason: str = ""
    deductions: list[dr.Deduction] = field(default_factory=list)
    refund_fen: int | None = None  # when given, must be what the decision comes to
    new_sn: str = ""  # a replacement's device


def _checked(inp: DecisionInput) -> Decision:
    try:
        decision = Decision(inp.decision)
    except ValueError:
        raise Invalid("device_return.invalid_decision", decision=inp.decision) from None
    if decision is Decision.REJECTION or inp.deductions:
        free_text(inp.reason, "reason", limit=2000)
    if decision is Decision.REPLACEMENT and not inp.new_sn:
        raise Invalid("request.field_required", field="new_sn")
    return decision


def decide(deps: Deps, actor: Actor, return_id: str, inp: DecisionInput) -> ReturnRow:
    actor.require("device_return.decide")
    decision = _checked(inp)
    now = deps.clock.now()
    with deps.uow(readonly=True) as uow:
        _, ret = load(uow, actor, return_id)
        dr.step(ReturnStatus(ret["status"]), dr.DECIDED_AS[decision])
        device = uow.provider.device(ret["provider_id"], ret["device_id"])
        assert device is not None
        desk = desk_of(uow, ret["provider_id"])
    paid = device["price_fen"] + device["charge_fen"]
    amount = 0
    if decision in (Decision.FULL_REFUND, Decision.PARTIAL_REFUND):
        amount = dr.refund_amount(paid, decision, inp.deductions)
        if inp.refund_fen is not None and inp.refund_fen > paid:
            raise Invalid("device_return.refund_above_paid", refund_fen=inp.refund_fen, paid_fen=paid)
        if inp.refund_fen is not None and inp.refund_fen != amount:
            raise Invalid("device_return.refund_mismatch", refund_fen=inp.refund_fen, expected_fen=amount)
    with deps.uow.batch():
        case_id = None
        if amount:
            case_id = refunds.request_refund(
                deps,
                seller_actor(actor, desk),
                RefundRequest(
                    sale_id=device["sale_id"],
                    amount_fen=amount,
                    reason="goods_quality" if ret["reason"] == dr.ReturnReason.FAULT.value else "customer_cancelled",
                    note=f"退机 {device['sn']}",
                    # The merchant hears of the refund through its own notices (``returns.tell_refund_paid``);
                    # no customer phone on the case, or it would also get the shoppers' refund SMS.
                    customer=CustomerInput(),
                ),
                permission="device_return.decide",
            ).id
        with deps.uow() as uow:
            ret = _close(uow, actor, ret, device, decision, inp, amount, case_id, deps, now)
            uow.commit()
    return ret


def _close(
    uow: UnitOfWork,
    actor: Actor,
    ret: ReturnRow,
    device: DeviceRow,
    decision: Decision,
    inp: DecisionInput,
    amount: int,
    case_id: str | None,
    deps: Deps,
    now: datetime,
) -> ReturnRow:
    """Record the decision on the return and the terminal (read again: a race loses on its version)."""
    current = uow.provider.get_return(ret["id"])
    assert current is not None
    status = dr.DECIDED_AS[decision]
    dr.step(ReturnStatus(current["status"]), status)
    fresh = uow.provider.device(device["provider_id"], device["id"])
    assert fresh is not None
    replacement = _replace(uow, deps, fresh, inp.new_sn, now) if decision is Decision.REPLACEMENT else None
    gone = status is not ReturnStatus.REJECTED
    move_device(
        uow, fresh, dr.TERMINAL_AFTER[status], now,
        deactivated_at=now if gone else None, replaced_by_id=replacement,
    )  # fmt: skip
    deductions = [dataclasses.asdict(d) for d in inp.deductions]
    audit(
        uow, actor, current, "device_return.decided", status.value, now, decision=decision.value,
        refund_fen=amount, refund_case_id=case_id, deductions=deductions, replacement_id=replacement,
    )  # fmt: skip
    if gone:
        revoked = _revoke_keys_of(uow, fresh, now)
        audit(uow, actor, current, "provider.device_deactivated", status.value, now, sn=fresh["sn"], keys=revoked)
    closed = save(
        uow, current, now, status=status.value, decision=decision.value, decision_reason=inp.reason.strip(),
        deductions=json.dumps(deductions, ensure_ascii=False), refund_fen=amount, refund_case_id=case_id,
        replacement_id=replacement, decided_by=actor.id, decided_at=now,
    )  # fmt: skip
    _tell_decision(deps, uow, closed, decision, inp, amount, now)
    if gone:
        tell_step(deps, uow, closed, "deactivated", NotifyEvent.TERMINAL_DEACTIVATED, now)
    return closed


def _tell_decision(
    deps: Deps, uow: UnitOfWork, ret: ReturnRow, decision: Decision, inp: DecisionInput, amount: int, now: datetime
) -> None:
    """The decision, in the merchant's words: the amount in yuan, each deduction, the new SN, the reason."""
    sep = "; " if merchant_messages.language_of(uow, ret["merchant_id"]) == "en" else "；"
    shown = {
        "amount": format_yuan(amount),
        "deductions": sep.join(f"{d.item} {format_yuan(d.amount_fen)}" for d in inp.deductions),
        "reason": inp.reason.strip(),
        "new_sn": inp.new_sn,
    }
    event = DECISION_EVENTS[decision.value]
    tell_step(
        deps, uow, ret, "decided", event, now, shown, decision=decision.value, refund_fen=amount, new_sn=inp.new_sn
    )


def _revoke_keys_of(uow: UnitOfWork, device: DeviceRow, now: datetime) -> list[str]:
    """A device that went back (or was swapped) must not go on refunding: the API keys of the merchant's
    terminals with its serial number are revoked with it, in the decision's transaction."""
    terminals = {t["id"] for t in uow.merchants.list_terminals(device["merchant_id"]) if t["device_sn"] == device["sn"]}
    keys = [k for k in uow.users.list_api_keys(device["merchant_id"]) if k["terminal_id"] in terminals]
    return [k["id"] for k in keys if k["revoked_at"] is None and uow.users.revoke_api_key(k["id"], now)]


def _replace(uow: UnitOfWork, deps: Deps, old: DeviceRow, new_sn: str, now: datetime) -> str:
    """A new device for the same merchant under the same payment, linked to the one it replaces."""
    if not is_identifier(dr.SN, new_sn):
        raise Invalid("provider.invalid_sn")
    if uow.provider.device_by_sn(new_sn) is not None:
        raise Invalid("provider.sn_taken", sn=new_sn)
    new: DeviceRow = {
        **old,
        "id": deps.ids.new_id("dev"),
        "sn": new_sn,
        "state": TerminalState.ISSUED.value,
        "issued_on": deps.local_date(now),
        "shipped_on": None,
        "signed_on": None,
        "activated_on": None,
        "replaces_id": old["id"],
        "replaced_by_id": None,
        "deactivated_at": None,
        "version": 1,
        "created_at": now,
        "updated_at": now,
    }
    uow.provider.add_device(new)
    return new["id"]


def confirm_transfer(deps: Deps, actor: Actor, return_id: str, reference: str) -> ReturnRow:
    """A device paid by bank transfer is refunded by transfer: once the money has left, a second member of the
    provider's staff records the transfer's reference (the core's offline payout, never by the person who
    decided the refund), and the refund is done."""
    actor.require("device_return.decide")
    with deps.uow(readonly=True) as uow:
        _, ret = load(uow, actor, return_id)
        desk = desk_of(uow, ret["provider_id"])
    case_id = ret["refund_case_id"]
    if not case_id:
        raise Conflict("device_return.no_refund", status=ret["status"])
    execution.confirm_payout(
        deps,
        seller_actor(actor, desk),
        case_id,
        free_text(reference, "reference", limit=200),
        permission="device_return.decide",
    )
    with deps.uow(readonly=True) as uow:
        return load(uow, actor, return_id)[1]
