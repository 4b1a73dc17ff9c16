"""After the money is sent (后续跟进): a follow-up task once the expected arrival date has passed, closed when
the customer (tracking page) or customer service confirms receipt; and the log of every contact with the
customer. All of it lands in the case's audit timeline."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from posrefund.domain.errors import Conflict, Invalid, NotFound
from posrefund.domain.events import CaseEvent
from posrefund.domain.notification import NotifyEvent
from posrefund.domain.pii import refuse_card_data
from posrefund.domain.refund import RefundCase, RefundStatus
from posrefund.domain.roles import SYSTEM_ACTOR, Actor
from posrefund.ports import ContactEntryRow, FollowUpRow, UnitOfWork
from posrefund.service.deps import Deps
from posrefund.service.notifications import sending
from posrefund.service.notifications.settings import load_case
from posrefund.service.records import record, record_on_case

CONTACT_KINDS = ("call", "message", "visit")
DIRECTIONS = ("in", "out")
MAX_NOTE = 1000
# How the console names a contact, and the kind of contact each one is.
CONTACT_CHANNELS = ("phone", "wechat", "counter", "sms", "email")
CONTACT_KIND = {"phone": "call", "wechat": "message", "counter": "visit", "sms": "message", "email": "message"}


def sweep(deps: Deps, limit: int = 200) -> int:
    """Open a follow-up for every paid case whose expected arrival date has passed, and tell the customer
    it should have arrived (with the link to confirm). Safe to run any number of times."""
    now = deps.clock.now()
    today = deps.local_date(now)
    with deps.uow() as uow:
        due = uow.follow_ups.cases_needing_followup(today, limit)
        for merchant_id, case_id in due:
            case = uow.refunds.get_case(merchant_id, case_id)
            if case is None or not uow.follow_ups.add_followup(
                {"case_id": case.id, "merchant_id": merchant_id, "due_on": today, "status": "open", "created_at": now}
            ):
                continue
            uow.audit.append(
                merchant_id,
                case.id,
                CaseEvent(
                    "followup.opened",
                    SYSTEM_ACTOR,
                    now,
                    case.status.value,
                    case.status.value,
                    "",
                    {"expected_arrival": case.expected_arrival.isoformat() if case.expected_arrival else None},
                ),
            )
            sending.schedule(deps, uow, case, NotifyEvent.ARRIVED, f"arr-{case.id}", now)
        uow.commit()
    return len(due)


def _age_days(row: FollowUpRow, today: date) -> int:
    return max(0, (today - row["due_on"]).days)


def list_followups(deps: Deps, actor: Actor, status: str | None = "open", limit: int = 100) -> list[dict[str, Any]]:
    """The customer-service queue: oldest due first, with how many days each has waited."""
    actor.require("followup.read")
    if status not in (None, "open", "closed"):
        raise Invalid("followup.invalid_status", status=status)
    today = deps.local_date(deps.clock.now())
    with deps.uow(readonly=True) as uow:
        rows: list[dict[str, Any]] = []
        for r in uow.follow_ups.list_followups(actor.merchant_id or "", status, limit):
            case = uow.refunds.get_case(actor.merchant_id or "", r["case_id"])
            assert case is not None
            rows.append(
                {
                    **r,
                    "refund_no": case.refund_no,
                    "amount_fen": case.amount_fen,
                    "currency": case.currency,
                    "expected_arrival": case.expected_arrival,
                    "age_days": _age_days(r, today),
                    "customer_phone": uow.refunds.customer(case.id).phone_masked or None,
                }
            )
    return rows


def confirm_receipt(
    uow: UnitOfWork, case: RefundCase, actor: Actor, how: str, note: str, now: datetime, today: date
) -> bool:
    """Close the loop: the follow-up (created here if the customer confirms before it was due) is closed.
    False when it was already closed (a second confirmation changes nothing)."""
    if case.status is not RefundStatus.SUCCEEDED:
        raise Conflict("followup.not_paid", current=case.status.value)
    uow.follow_ups.add_followup(
        {"case_id": case.id, "merchant_id": case.merchant_id, "due_on": today, "status": "open", "created_at": now}
    )
    if not uow.follow_ups.close_followup(
        case.id, {"closed_at": now, "closed_by": actor.id, "closed_how": how, "note": note}
    ):
        return False
    record_on_case(
        uow,
        actor,
        case,
        "followup.closed",
        now,
        reason=note,
        how=how,
    )
    return True


def close_by_staff(deps: Deps, actor: Actor, case_id: str, note: str) -> dict[str, Any]:
    """Customer service confirmed receipt with the customer (e.g. on the phone)."""
    actor.require("followup.close")
    refuse_card_data(note, "note")
    if len(note) > MAX_NOTE:
        raise Invalid("request.field_too_long", field="note", max=MAX_NOTE)
    now = deps.clock.now()
    with deps.uow() as uow:
        case = load_case(uow, actor, case_id)
        if uow.follow_ups.followup(case.merchant_id, case.id) is None and case.status is not RefundStatus.SUCCEEDED:
            raise NotFound("followup.not_found")
        if not confirm_receipt(uow, case, actor, "staff", note, now, deps.local_date(now)):
            raise Conflict("followup.already_closed")
        row = uow.follow_ups.followup(case.merchant_id, case.id)
        uow.commit()
    assert row is not None
    return {**row}


@dataclass(frozen=True)
class ContactEntry:
    kind: str
    direction: str
    note: str


def log_contact(deps: Deps, actor: Actor, case_id: str, entry: ContactEntry) -> dict[str, Any]:
    """One call, message or counter visit with the customer: who, when, what (an audit event too)."""
    actor.require("contact.record")
    if entry.kind not in CONTACT_KINDS:
        raise Invalid("contact.invalid_kind", kind=entry.kind)
    if entry.direction not in DIRECTIONS:
        raise Invalid("contact.invalid_direction", direction=entry.direction)
    if not entry.note.strip():
        raise Invalid("contact.note_required")
    if len(entry.note) > MAX_NOTE:
        raise Invalid("request.field_too_long", field="note", max=MAX_NOTE)
    refuse_card_data(entry.note, "note")
    now = deps.clock.now()
    with deps.uow() as uow:
        case = load_case(uow, actor, case_id)
        row: ContactEntryRow = {
            "id": deps.ids.new_id("cnt"),
            "merchant_id": case.merchant_id,
            "case_id": case.id,
            "kind": entry.kind,
            "direction": entry.direction,
            "note": entry.note,
            "actor_id": actor.id,
            "actor_role": actor.role.value,
            "at": now,
        }
        uow.contacts.add_contact_entry(row)
        record_on_case(
            uow,
            actor,
            case,
            "contact.logged",
            now,
            reason=entry.note,
            kind=entry.kind,
            direction=entry.direction,
            contact_id=row["id"],
        )
        uow.commit()
    return {**row}


def contacts(deps: Deps, actor: Actor, case_id: str) -> list[dict[str, Any]]:
    actor.require("contact.read")
    with deps.uow(readonly=True) as uow:
        case = load_case(uow, actor, case_id)
        return [{**r} for r in uow.contacts.contact_entries(case.merchant_id, case.id)]


def note_contact(deps: Deps, actor: Actor, case_id: str, *, channel: str, note: str, escalate: bool) -> None:
    """Customer service records a contact with the customer in the case's contact log (``log_contact``),
    and may escalate the case to a supervisor; both in one transaction, both on the case's timeline."""
    actor.require("case.note")
    if channel not in CONTACT_CHANNELS:
        raise Invalid("followup.invalid_channel", channel=channel, allowed=list(CONTACT_CHANNELS))
    note = note.strip()
    if not note:
        raise Invalid("request.field_required", field="note")
    if len(note) > MAX_NOTE:
        raise Invalid("request.field_too_long", field="note", max=MAX_NOTE)
    entry = ContactEntry(kind=CONTACT_KIND[channel], direction="in" if channel == "counter" else "out", note=note)
    with deps.uow.batch():
        log_contact(deps, actor, case_id, entry)
        if not escalate:
            return
        now = deps.clock.now()
        with deps.uow() as uow:
            case = load_case(uow, actor, case_id)
            status = case.status.value
            record(
                uow,
                actor,
                case.merchant_id,
                "case.escalated",
                now,
                case_id=case.id,
                reason=note,
                before=status,
                after=status,
            )
            uow.commit()
