"""Wrong charges (错收): a discrepancy found by reconciliation becomes a case with its evidence, cause,
responsible party and customer contact, and is corrected by a refund through the NORMAL refund flow
(policy, review, channel, notification) — the three linked in the audit trail.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from posrefund.domain.errors import Conflict, Invalid, NotFound
from posrefund.domain.pii import refuse_card_number
from posrefund.domain.policy import Reason
from posrefund.domain.reconciliation import (
    Cause,
    ContactMethod,
    DiscrepancyClass,
    Responsible,
    WrongChargeStatus,
    correction_amount,
)
from posrefund.domain.roles import Actor
from posrefund.ports import UnitOfWork
from posrefund.service import refunds
from posrefund.service.deps import Deps
from posrefund.service.records import record
from posrefund.service.refunds import CustomerInput, RefundRequest

MAX_TEXT = 1_000
REASON_OF: dict[str, Reason] = {
    DiscrepancyClass.DUPLICATE_CHARGE.value: Reason.DUPLICATE_CHARGE,
    DiscrepancyClass.AMOUNT_MISMATCH.value: Reason.WRONG_AMOUNT,
    DiscrepancyClass.FEE_MISMATCH.value: Reason.WRONG_AMOUNT,
}


def _enum(kind: type[Cause] | type[Responsible] | type[ContactMethod], value: str, field: str) -> str:
    try:
        return kind(value).value
    except ValueError:
        raise Invalid("recon.invalid_field", field=field, value=value) from None


def _text(value: str, field: str) -> str:
    if len(value) > MAX_TEXT:
        raise Invalid("request.field_too_long", field=field, max=MAX_TEXT)
    refuse_card_number(value, field)
    return value.strip()


def _evidence(uow: UnitOfWork, merchant_id: str, ids: Sequence[str]) -> list[str]:
    wanted = list(dict.fromkeys(ids))
    if len(uow.evidence.evidence_rows(merchant_id, wanted)) != len(wanted):
        raise Invalid("evidence.not_found")
    return wanted


def _load(uow: UnitOfWork, actor: Actor, wc_id: str) -> dict[str, Any]:
    wc = uow.wrong_charges.get_wrong_charge(actor.merchant_id or "", wc_id)
    if wc is None:
        raise NotFound("recon.wrong_charge_not_found")
    return wc


def open_case(
    deps: Deps,
    actor: Actor,
    discrepancy_id: int,
    *,
    cause: str = Cause.UNKNOWN.value,
    responsible: str = Responsible.UNKNOWN.value,
    analysis: str = "",
    evidence_ids: Sequence[str] = (),
) -> dict[str, Any]:
    """One discrepancy, one case: its settlement line and sale are the first evidence, with uploaded proof
    (receipt, messages) attached by id."""
    actor.require("recon.case")
    cause = _enum(Cause, cause, "cause")
    responsible = _enum(Responsible, responsible, "responsible")
    analysis = _text(analysis, "analysis")
    merchant_id = actor.merchant_id or ""
    now = deps.clock.now()
    with deps.uow() as uow:
        d = uow.discrepancies.get_discrepancy(merchant_id, discrepancy_id)
        if d is None:
            raise NotFound("recon.discrepancy_not_found")
        if d["wrong_charge_id"]:
            raise Conflict("recon.case_exists", wrong_charge_id=str(d["wrong_charge_id"]))
        if d["cleared_at"] is not None or d["resolution"]:
            raise Conflict("recon.already_resolved", resolution=str(d["resolution"] or "cleared"))
        evidence = _evidence(uow, merchant_id, evidence_ids)
        wc_id = deps.ids.new_id("wch")
        if not uow.discrepancies.resolve_discrepancy(discrepancy_id, "wrong_charge", wc_id):
            raise Conflict("recon.already_resolved", resolution="wrong_charge")
        row = {
            "id": wc_id,
            "merchant_id": merchant_id,
            "discrepancy_id": discrepancy_id,
            "run_id": d["run_id"],
            "class": d["class"],
            "sale_id": d["sale_id"],
            "line_id": d["line_id"],
            "evidence_ids": evidence,
            "cause": cause,
            "responsible": responsible,
            "analysis": analysis,
            "contact_method": "",
            "contact_note": "",
            "contacted_at": None,
            "status": WrongChargeStatus.OPEN.value,
            "correction_refund_id": "",
            "created_by": actor.id,
            "created_at": now,
            "updated_at": now,
            "version": 0,
        }
        uow.wrong_charges.add_wrong_charge(row)
        record(
            uow,
            actor,
            merchant_id,
            "wrong_charge.opened",
            now,
            case_id=wc_id,
            reason=analysis,
            after=WrongChargeStatus.OPEN.value,
            discrepancy_id=discrepancy_id,
            run_id=d["run_id"],
            discrepancy_class=d["class"],
            line_id=d["line_id"],
            sale_id=d["sale_id"],
            evidence_ids=evidence,
            cause=cause,
            responsible=responsible,
        )
        uow.commit()
    return row


def update_case(
    deps: Deps,
    actor: Actor,
    wc_id: str,
    *,
    cause: str | None = None,
    responsible: str | None = None,
    analysis: str | None = None,
    evidence_ids: Sequence[str] | None = None,
    contact_method: str | None = None,
    contact_note: str | None = None,
) -> dict[str, Any]:
    """Cause analysed, responsibility decided, evidence added, customer contacted (apologised, told what
    happens next): each change is audited with its before and after."""
    actor.require("recon.case")
    now = deps.clock.now()
    with deps.uow() as uow:
        wc = _load(uow, actor, wc_id)
        changes: dict[str, Any] = {}
        if cause is not None:
            changes["cause"] = _enum(Cause, cause, "cause")
        if responsible is not None:
            changes["responsible"] = _enum(Responsible, responsible, "responsible")
        if analysis is not None:
            changes["analysis"] = _text(analysis, "analysis")
        if evidence_ids is not None:
            changes["evidence_ids"] = _evidence(uow, actor.merchant_id or "", [*wc["evidence_ids"], *evidence_ids])
        if contact_method is not None:
            changes["contact_method"] = _enum(ContactMethod, contact_method, "contact_method")
            changes["contact_note"] = _text(contact_note or "", "contact_note")
            changes["contacted_at"] = now
        elif contact_note is not None:
            raise Invalid("recon.invalid_field", field="contact_method", value="")
        changes = {k: v for k, v in changes.items() if wc[k] != v}
        if not changes:
            return wc
        before = {k: wc[k] for k in changes if k != "contacted_at"}
        wc.update(changes, updated_at=now)
        if not uow.wrong_charges.save_wrong_charge(wc):
            raise Conflict("recon.case_changed")
        action = "wrong_charge.customer_contacted" if "contact_method" in changes else "wrong_charge.updated"
        record(
            uow,
            actor,
            actor.merchant_id,
            action,
            now,
            case_id=wc_id,
            before=wc["status"],
            after=wc["status"],
            changed={k: v for k, v in changes.items() if k != "contacted_at"},
            was=before,
        )
        uow.commit()
    return wc


def start_correction(
    deps: Deps,
    actor: Actor,
    wc_id: str,
    *,
    amount_fen: int | None = None,
    customer: CustomerInput | None = None,
    note: str = "",
) -> tuple[dict[str, Any], Any]:
    """The correction refund, through ``refunds.request_refund`` (policy, review, worker, channel, notice).
    The case's move to ``correcting``, the refund request and the links are one transaction: a second
    start, or a refused refund, leaves nothing behind."""
    actor.require("recon.correct")
    note = _text(note, "note")
    merchant_id = actor.merchant_id or ""
    with deps.uow.batch():
        now = deps.clock.now()
        with deps.uow() as uow:
            wc = _load(uow, actor, wc_id)
            if wc["status"] != WrongChargeStatus.OPEN.value:
                raise Conflict("recon.correction_started", refund_id=str(wc["correction_refund_id"]))
            if not wc["sale_id"]:
                raise Invalid("recon.no_sale")
            d = uow.discrepancies.get_discrepancy(merchant_id, int(wc["discrepancy_id"]))
            assert d is not None
            amount = amount_fen
            if amount is None:
                amount = correction_amount(DiscrepancyClass(str(d["class"])), d["ours_fen"], d["theirs_fen"])
            if amount is None:
                raise Invalid("recon.amount_required")
            wc["status"] = WrongChargeStatus.CORRECTING.value
            wc["updated_at"] = now
            if not uow.wrong_charges.save_wrong_charge(wc):
                raise Conflict("recon.case_changed")
            uow.commit()
        case = refunds.request_refund(
            deps,
            actor,
            RefundRequest(
                sale_id=str(wc["sale_id"]),
                amount_fen=amount,
                reason=REASON_OF.get(str(wc["class"]), Reason.TRANSACTION_ERROR).value,
                note=(f"错收更正 {wc_id} " + note).strip(),
                customer=customer or CustomerInput(),
                evidence_ids=tuple(wc["evidence_ids"]),
            ),
            permission="recon.correct",
        )
        with deps.uow() as uow:
            wc["correction_refund_id"] = case.id
            if not uow.wrong_charges.save_wrong_charge(wc):
                raise Conflict("recon.case_changed")
            links = {"wrong_charge_id": wc_id, "discrepancy_id": wc["discrepancy_id"], "refund_id": case.id}
            record(
                uow,
                actor,
                merchant_id,
                "wrong_charge.correction_started",
                now,
                case_id=wc_id,
                before=WrongChargeStatus.OPEN.value,
                after=WrongChargeStatus.CORRECTING.value,
                amount_fen=amount,
                refund_no=case.refund_no,
                **links,
            )
            record(uow, actor, merchant_id, "wrong_charge.correction_linked", now, case_id=case.id, **links)
            uow.commit()
    return wc, case


def get_case(deps: Deps, actor: Actor, wc_id: str) -> dict[str, Any]:
    """The case with its discrepancy and, once started, its correction refund's status."""
    actor.require("recon.read")
    with deps.uow(readonly=True) as uow:
        wc = _load(uow, actor, wc_id)
        d = uow.discrepancies.get_discrepancy(actor.merchant_id or "", int(wc["discrepancy_id"]))
        refund = (
            uow.refunds.get_case(actor.merchant_id or "", str(wc["correction_refund_id"]))
            if wc["correction_refund_id"]
            else None
        )
        events = uow.audit.case_events(actor.merchant_id or "", wc_id)
    return {
        **wc,
        "discrepancy": d,
        "correction_status": refund.status.value if refund else None,
        "events": events,
    }
