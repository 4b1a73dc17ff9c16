"""Following a case up (后续): the customer's other refunds, colleagues' names, and contact notes.

Contact notes and escalations are audit events on the case (who, when, what, why); a fuller contact log
and disputes are another issue's work and can read these events.
"""

from __future__ import annotations

from posrefund.domain.errors import Invalid
from posrefund.domain.pii import refuse_card_number
from posrefund.domain.roles import Actor
from posrefund.ports import RefundQuery
from posrefund.service.deps import Deps
from posrefund.service.records import record
from posrefund.service.refunds import CaseView, _load, list_cases

CONTACT_CHANNELS = ("phone", "wechat", "counter", "sms", "email")
MAX_NOTE = 500


def customer_history(deps: Deps, actor: Actor, case_id: str, limit: int = 20) -> list[CaseView]:
    """The same customer's other refunds at this merchant, matched on the phone's blind index."""
    actor.require("refund.read")
    with deps.uow(readonly=True) as uow:
        case = _load(uow, actor, case_id)
        index = uow.refunds.customer(case.id).phone_index
    if not index:
        return []
    views, _ = list_cases(deps, actor, RefundQuery(phone_index=index, limit=limit + 1))
    return [v for v in views if v.case.id != case_id][:limit]


def staff_names(deps: Deps, actor: Actor) -> dict[str, str]:
    """User id → display name of the merchant's operators, to show who did what on a case."""
    actor.require("merchant.read")
    with deps.uow(readonly=True) as uow:
        return {str(u["id"]): str(u["display_name"]) for u in uow.users.list_users(actor.merchant_id or "")}


def note_contact(deps: Deps, actor: Actor, case_id: str, *, channel: str, note: str, escalate: bool) -> None:
    """Customer service records a contact with the customer, and may escalate the case to a supervisor."""
    actor.require("case.note")
    if channel not in CONTACT_CHANNELS:
        raise Invalid("followup.invalid_channel", channel=channel, allowed=list(CONTACT_CHANNELS))
    note = note.strip()
    if not note:
        raise Invalid("request.field_required", field="note")
    if len(note) > MAX_NOTE:
        raise Invalid("request.field_too_long", field="note", max=MAX_NOTE)
    refuse_card_number(note, "note")
    now = deps.clock.now()
    with deps.uow() as uow:
        case = _load(uow, actor, case_id)
        status = case.status.value
        record(
            uow,
            actor,
            case.merchant_id,
            "case.contact_noted",
            now,
            case_id=case.id,
            reason=note,
            before=status,
            after=status,
            channel=channel,
        )
        if escalate:
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
