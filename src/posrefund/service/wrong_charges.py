"""Wrong charges (错收): a discrepancy found by reconciliation becomes a case with its evidence, cause,
responsible party and customer contact, and is corrected by a refund through the NORMAL refund flow
(policy, review, channel, notification) — the three linked in the audit trail.

The case's rules and its one table of transitions are in ``domain/wrong_charge.py``; here a row is loaded
as the aggregate, asked to act, and saved with its events.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from posrefund.domain.errors import Conflict, Invalid, NotFound
from posrefund.domain.reconciliation import Cause, ContactMethod, DiscrepancyClass, Responsible, correction_amount
from posrefund.domain.refund import RefundCase
from posrefund.domain.roles import Actor
from posrefund.domain.wrong_charge import (
    MAX_TEXT,
    Amendment,
    Discrepancy,
    WrongCharge,
    WrongChargeStatus,
    case_text,
    check_discrepancy_free,
    choice,
)
from posrefund.ports import UnitOfWork, WrongChargeRow
from posrefund.service import refunds
from posrefund.service.deps import Deps
from posrefund.service.reconciliation.channel_charges import charge_line, record_channel_charge
from posrefund.service.reconciliation.discrepancies import known_discrepancy
from posrefund.service.records import record
from posrefund.service.refunds import CustomerInput, RefundRequest

__all__ = ["MAX_TEXT", "get_case", "open_case", "start_correction", "update_case"]


def _wrong_charge(row: WrongChargeRow) -> WrongCharge:
    """A ``wrong_charges`` row (evidence already decoded by the repository) as the aggregate."""
    return WrongCharge(
        id=row["id"],
        merchant_id=row["merchant_id"],
        discrepancy=Discrepancy(
            id=int(row["discrepancy_id"]),
            run_id=row["run_id"],
            cls=DiscrepancyClass(row["class"]),
            sale_id=row["sale_id"] or None,
            line_id=row["line_id"] or None,
        ),
        evidence_ids=list(row["evidence_ids"]),
        cause=Cause(row["cause"]),
        responsible=Responsible(row["responsible"]),
        analysis=row["analysis"],
        contact_method=ContactMethod(row["contact_method"]) if row["contact_method"] else None,
        contact_note=row["contact_note"],
        contacted_at=row["contacted_at"],
        status=WrongChargeStatus(row["status"]),
        correction_refund_id=row["correction_refund_id"],
        created_by=row["created_by"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        version=int(row["version"]),
    )


def _row(wc: WrongCharge) -> WrongChargeRow:
    """The aggregate as its row, in the table's column order (what the API and the console show)."""
    d = wc.discrepancy
    return {
        "id": wc.id,
        "merchant_id": wc.merchant_id,
        "discrepancy_id": d.id,
        "run_id": d.run_id,
        "class": d.cls.value,
        "sale_id": d.sale_id or "",
        "line_id": d.line_id or 0,
        "evidence_ids": list(wc.evidence_ids),
        "cause": wc.cause.value,
        "responsible": wc.responsible.value,
        "analysis": wc.analysis,
        "contact_method": wc.contact_method.value if wc.contact_method else "",
        "contact_note": wc.contact_note,
        "contacted_at": wc.contacted_at,
        "status": wc.status.value,
        "correction_refund_id": wc.correction_refund_id,
        "created_by": wc.created_by,
        "created_at": wc.created_at,
        "updated_at": wc.updated_at,
        "version": wc.version,
    }


def _evidence(uow: UnitOfWork, merchant_id: str, ids: Sequence[str]) -> list[str]:
    wanted = list(dict.fromkeys(ids))
    if len(uow.evidence.evidence_rows(merchant_id, wanted)) != len(wanted):
        raise Invalid("evidence.not_found")
    return wanted


def _load(uow: UnitOfWork, actor: Actor, wc_id: str) -> WrongCharge:
    row = uow.wrong_charges.get_wrong_charge(actor.merchant_id or "", wc_id)
    if row is None:
        raise NotFound("recon.wrong_charge_not_found")
    return _wrong_charge(row)


def _save(uow: UnitOfWork, wc: WrongCharge) -> WrongChargeRow:
    """Compare-and-set on the version, then the case's events into the audit chain."""
    row = _row(wc)
    if not uow.wrong_charges.save_wrong_charge(row):
        raise Conflict("recon.case_changed")
    wc.version = row["version"]
    _flush(uow, wc)
    return _row(wc)


def _flush(uow: UnitOfWork, wc: WrongCharge) -> None:
    uow.audit.append_many(wc.merchant_id, wc.id, wc.pending_events)
    wc.pending_events.clear()


def _free_discrepancy(uow: UnitOfWork, merchant_id: str, discrepancy_id: int) -> Discrepancy:
    d = known_discrepancy(uow, merchant_id, discrepancy_id)
    check_discrepancy_free(str(d["wrong_charge_id"] or ""), str(d["resolution"] or ""), d["cleared_at"] is not None)
    return Discrepancy(
        id=discrepancy_id,
        run_id=d["run_id"],
        cls=DiscrepancyClass(str(d["class"])),
        sale_id=d["sale_id"],
        line_id=d["line_id"],
    )


def open_case(
    deps: Deps,
    actor: Actor,
    discrepancy_id: int,
    *,
    cause: str = Cause.UNKNOWN.value,
    responsible: str = Responsible.UNKNOWN.value,
    analysis: str = "",
    evidence_ids: Sequence[str] = (),
) -> WrongChargeRow:
    """One discrepancy, one case: its settlement line and sale are the first evidence, with uploaded proof
    (receipt, messages) attached by id."""
    actor.require("recon.case")
    typed_cause = choice(Cause, cause, "cause")
    typed_responsible = choice(Responsible, responsible, "responsible")
    analysis = case_text(analysis, "analysis")
    merchant_id = actor.merchant_id or ""
    now = deps.clock.now()
    with deps.uow() as uow:
        discrepancy = _free_discrepancy(uow, merchant_id, discrepancy_id)
        evidence = _evidence(uow, merchant_id, evidence_ids)
        wc_id = deps.ids.new_id("wch")
        if not uow.discrepancies.resolve_discrepancy(discrepancy_id, "wrong_charge", wc_id):
            raise Conflict("recon.already_resolved", resolution="wrong_charge")
        wc = WrongCharge.open(
            id=wc_id,
            merchant_id=merchant_id,
            discrepancy=discrepancy,
            evidence_ids=evidence,
            cause=typed_cause,
            responsible=typed_responsible,
            analysis=analysis,
            actor=actor,
            now=now,
        )
        row = _row(wc)
        uow.wrong_charges.add_wrong_charge(row)
        _flush(uow, wc)
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
) -> WrongChargeRow:
    """Cause analysed, responsibility decided, evidence added, customer contacted (apologised, told what
    happens next): each change is audited with its before and after."""
    actor.require("recon.case")
    now = deps.clock.now()
    with deps.uow() as uow:
        wc = _load(uow, actor, wc_id)
        change = Amendment(
            cause=choice(Cause, cause, "cause") if cause is not None else None,
            responsible=choice(Responsible, responsible, "responsible") if responsible is not None else None,
            analysis=case_text(analysis, "analysis") if analysis is not None else None,
            evidence_ids=(
                _evidence(uow, wc.merchant_id, [*wc.evidence_ids, *evidence_ids]) if evidence_ids is not None else None
            ),
            **_contact(contact_method, contact_note),
        )
        if not wc.amend(change, actor, now):
            return _row(wc)
        row = _save(uow, wc)
        uow.commit()
    return row


def _contact(method: str | None, note: str | None) -> dict[str, Any]:
    """A contact is its method and what was said; a note without a method is refused."""
    if method is not None:
        return {
            "contact_method": choice(ContactMethod, method, "contact_method"),
            "contact_note": case_text(note or "", "contact_note"),
        }
    if note is not None:
        raise Invalid("recon.invalid_field", field="contact_method", value="")
    return {}


def _begin_correction(
    deps: Deps, actor: Actor, wc_id: str, amount_fen: int | None, now: datetime, by_channel: bool | None
) -> tuple[WrongCharge, int, bool]:
    """The case moves to ``correcting`` (once: a second start is refused) and the amount is settled; the route
    is the channel's reference when asked, or when the finding has no sale of ours."""
    with deps.uow() as uow:
        wc = _load(uow, actor, wc_id)
        d = uow.discrepancies.get_discrepancy(wc.merchant_id, wc.discrepancy.id)
        assert d is not None
        channel_route = (not wc.discrepancy.sale_id) if by_channel is None else by_channel
        if channel_route and amount_fen is None:
            # What the finding says (the duplicate, the excess), else the channel line's whole amount.
            line, _ = charge_line(uow, wc)
            found = correction_amount(wc.discrepancy.cls, d["ours_fen"], d["theirs_fen"])
            amount_fen = found or int(line["amount_fen"])
        elif not channel_route and not wc.discrepancy.sale_id:
            raise Invalid("recon.no_sale")
        amount = wc.start_correction(amount_fen, d["ours_fen"], d["theirs_fen"], now)
        _save(uow, wc)
        uow.commit()
    return wc, amount, channel_route


def _link_correction(deps: Deps, actor: Actor, wc: WrongCharge, case: RefundCase, amount: int, now: datetime) -> None:
    """The case, its discrepancy and the refund point at each other, on both timelines."""
    with deps.uow() as uow:
        wc.link_correction(case.id, case.refund_no, amount, actor, now)
        _save(uow, wc)
        links = wc.correction_links
        record(uow, actor, wc.merchant_id, "wrong_charge.correction_linked", now, case_id=case.id, **links)
        uow.commit()


def start_correction(
    deps: Deps,
    actor: Actor,
    wc_id: str,
    *,
    amount_fen: int | None = None,
    customer: CustomerInput | None = None,
    note: str = "",
    by_channel_reference: bool | None = None,
    terminal_id: str | None = None,
) -> tuple[WrongChargeRow, RefundCase]:
    """The correction refund, through ``refunds.request_refund`` (policy, review, worker, channel, notice).
    The case's move to ``correcting``, the refund request and the links are one transaction: a second
    start, or a refused refund, leaves nothing behind. A finding with no sale of ours (or ``by_channel_reference``)
    is refunded by the channel's own transaction reference: its line is booked as a ``channel_charge`` sale
    first (``reconciliation.channel_charges``), on ``terminal_id`` when the line names none."""
    actor.require("recon.correct")
    note = case_text(note, "note")
    with deps.uow.batch():
        now = deps.clock.now()
        wc, amount, channel_route = _begin_correction(deps, actor, wc_id, amount_fen, now, by_channel_reference)
        sale_id = str(wc.discrepancy.sale_id)
        if channel_route:
            sale_id = record_channel_charge(deps, actor, wc, terminal_id, now).id
        request = RefundRequest(
            sale_id=sale_id,
            amount_fen=amount,
            reason=wc.refund_reason.value,
            note=(f"错收更正 {wc.id} " + note).strip(),
            customer=customer or CustomerInput(),
            evidence_ids=tuple(wc.evidence_ids),
        )
        case = refunds.request_refund(deps, actor, request, permission="recon.correct")
        _link_correction(deps, actor, wc, case, amount, now)
    return _row(wc), case


def get_case(deps: Deps, actor: Actor, wc_id: str) -> dict[str, Any]:
    """The case with its discrepancy and, once started, its correction refund's status."""
    actor.require("recon.read")
    merchant_id = actor.merchant_id or ""
    with deps.uow(readonly=True) as uow:
        wc = _load(uow, actor, wc_id)
        d = uow.discrepancies.get_discrepancy(merchant_id, wc.discrepancy.id)
        refund = uow.refunds.get_case(merchant_id, wc.correction_refund_id) if wc.correction_refund_id else None
        events = uow.audit.case_events(merchant_id, wc_id)
    return {
        **_row(wc),
        "discrepancy": d,
        "correction_status": refund.status.value if refund else None,
        "events": events,
    }
