"""Staff tell the customer again where their refund stands (the message was lost, the customer asks at the
counter): the message of the case's current state, queued on every channel the customer can be reached on,
under a new message id — the sender, its retries and the opt-out are the ones every message goes through."""

from __future__ import annotations

from posrefund.domain.errors import Invalid
from posrefund.domain.notification import NotifyEvent
from posrefund.domain.refund import RefundStatus
from posrefund.domain.roles import Actor
from posrefund.service.deps import Deps
from posrefund.service.notifications.sending import schedule
from posrefund.service.notifications.settings import load_case
from posrefund.service.records import record_on_case

S = RefundStatus
# What the customer is told again in each state; a withdrawn or closed case has nothing to say.
MESSAGE_OF_STATUS: dict[RefundStatus, NotifyEvent] = {
    S.REQUESTED: NotifyEvent.ACCEPTED,
    S.PENDING_REVIEW: NotifyEvent.PENDING_REVIEW,
    S.APPROVED: NotifyEvent.APPROVED,
    S.PROCESSING: NotifyEvent.APPROVED,
    S.UNKNOWN: NotifyEvent.APPROVED,
    S.REJECTED: NotifyEvent.REJECTED,
    S.SUCCEEDED: NotifyEvent.PAID,
    S.FAILED: NotifyEvent.ATTENTION,
    S.ABNORMAL: NotifyEvent.ATTENTION,
}


def notify_again(deps: Deps, actor: Actor, case_id: str) -> int:
    """Queue the current state's message once more; how many messages were queued (never 0: that is refused,
    so the person knows nothing went out). The request itself is an audit event on the case."""
    actor.require("notify.contact")
    now = deps.clock.now()
    with deps.uow() as uow:
        case = load_case(uow, actor, case_id)
        event = MESSAGE_OF_STATUS.get(case.status)
        if event is None:
            raise Invalid("notify.nothing_to_say")
        queued = schedule(deps, uow, case, event, deps.ids.new_id("again"), now)
        if not queued:
            raise Invalid("notify.nothing_to_send")
        record_on_case(uow, actor, case, "notify.resent", now, notify_event=event.value, queued=queued)
        uow.commit()
    return queued
