"""Which steps a case's page offers an operator after the review, and why one is held back: the roles the
permission table allows, the states the case's transition table allows, and the two-person rules shown before
anyone tries (the service refuses the same things again when a step is posted)."""

from __future__ import annotations

from dataclasses import dataclass

from posrefund.domain.abnormal_refund import BANK_TYPES
from posrefund.domain.errors import DomainError
from posrefund.domain.refund import RefundCase, RefundStatus
from posrefund.domain.roles import PERMISSIONS, REVIEWERS, Actor
from posrefund.entrypoints.console.form_errors import Errors
from posrefund.entrypoints.console.web import may
from posrefund.service.routing import OFFLINE

S = RefundStatus
CANCELLABLE = frozenset({S.REQUESTED, S.PENDING_REVIEW, S.APPROVED})
# The outcomes a person may settle a case with, by its state (the domain's transition table decides).
RESOLVE_TO: dict[RefundStatus, tuple[str, ...]] = {
    S.ABNORMAL: ("succeeded", "failed", "closed", "processing"),
    S.UNKNOWN: ("succeeded", "failed", "abnormal"),
}
REROUTE_TO = ("cash", "transfer")
CONFIRMERS = tuple(sorted(r.value for r in PERMISSIONS["refund.confirm_payout"]))


@dataclass(frozen=True)
class CaseSteps:
    """Which steps the page offers this operator on this case, and why one is held back."""

    cancel: bool = False
    retry: bool = False
    resolve_to: tuple[str, ...] = ()
    reroute: bool = False
    reroute_block: str = ""
    awaiting_payout: bool = False  # cash, a cheque or a transfer waits for a second person to confirm it was paid
    payout: bool = False  # this operator's role may confirm it
    payout_block: str = ""
    payout_not_by: tuple[str, ...] = ()  # who may not confirm it: the requester and whoever rerouted it
    to_card: bool = False  # an abnormal WeChat Pay refund may be sent to a bank card (异常退款), with consent
    banks: tuple[str, ...] = tuple(BANK_TYPES)  # the debit cards WeChat Pay pays an abnormal refund to
    notify: bool = False
    confirmers: tuple[str, ...] = CONFIRMERS


def steps_for(actor: Actor, case: RefundCase, lang: str) -> CaseSteps:
    """What this operator is offered; the service refuses the same things again when a step is posted."""
    errors = Errors(lang)
    mine = actor.id == case.requested_by
    reroute_block = payout_block = ""
    if actor.role in REVIEWERS and mine:
        reroute_block = errors.text(DomainError("review.self_approval"))
    awaiting = case.status is S.PROCESSING and case.method in OFFLINE
    not_by = tuple(dict.fromkeys(i for i in (case.requested_by, case.rerouted_by) if i))
    if awaiting and actor.id in not_by:
        code = "refund.second_person_required" if mine else "review.same_person"
        payout_block = errors.text(DomainError(code))
    return CaseSteps(
        cancel=may(actor, "refund.cancel") and case.status in CANCELLABLE and (mine or actor.role in REVIEWERS),
        retry=may(actor, "refund.retry") and case.status is S.FAILED and case.holds_reservation,
        resolve_to=RESOLVE_TO.get(case.status, ()) if may(actor, "refund.resolve") else (),
        reroute=may(actor, "refund.reroute") and case.status in (S.FAILED, S.ABNORMAL) and case.holds_reservation,
        reroute_block=reroute_block,
        awaiting_payout=awaiting,
        payout=awaiting and may(actor, "refund.confirm_payout"),
        payout_block=payout_block,
        payout_not_by=not_by if awaiting else (),
        notify=may(actor, "notify.contact"),
        to_card=may(actor, "refund.abnormal_refund") and case.status is S.ABNORMAL and case.channel == "wechat",
    )


def any_step(steps: CaseSteps) -> bool:
    return bool(
        steps.cancel or steps.retry or steps.resolve_to or steps.reroute or steps.awaiting_payout or steps.to_card
    )
