"""Following a case up (后续): the customer's other refunds, colleagues' names, and contact notes.

A contact note goes into the case's contact log (followup.py, the notifications issue); an escalation to a
supervisor is an audit event. Both show on the case's timeline.
"""

from __future__ import annotations

from posrefund.domain.errors import Invalid
from posrefund.domain.roles import Actor
from posrefund.ports import RefundQuery
from posrefund.service import followup
from posrefund.service.deps import Deps
from posrefund.service.followup import ContactEntry
from posrefund.service.records import record
from posrefund.service.refunds import CaseView, _load, list_cases

CONTACT_CHANNELS = ("phone", "wechat", "counter", "sms", "email")
CONTACT_KIND = {"phone": "call", "wechat": "message", "counter": "visit", "sms": "message", "email": "message"}
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
    """Customer service records a contact with the customer in the case's contact log (followup.log_contact),
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
        followup.log_contact(deps, actor, case_id, entry)
        if not escalate:
            return
        now = deps.clock.now()
        with deps.uow() as uow:
            case = _load(uow, actor, case_id)
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
