"""The refund case (退款单): its states, the one table of allowed transitions, and the aggregate whose intent
methods guard that state machine and record events.

Nothing else in the code base decides whether a status may change: the aggregate asks
:func:`check_transition`, which raises ``state.invalid_transition``."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from posrefund.domain.channel import ChannelAnswer, Outcome
from posrefund.domain.channel_facts import of_this_amount
from posrefund.domain.errors import Conflict, Forbidden, IllegalTransition, Invalid, check_step
from posrefund.domain.events import CaseEvent, EventSource
from posrefund.domain.policy import Reason, RefundPolicy
from posrefund.domain.review import approvals_needed, auto_approvable, check_reviewer
from posrefund.domain.roles import REVIEWERS, SYSTEM_ACTOR, Actor


class RefundStatus(StrEnum):
    REQUESTED = "requested"
    PENDING_REVIEW = "pending_review"
    APPROVED = "approved"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    PROCESSING = "processing"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CLOSED = "closed"
    ABNORMAL = "abnormal"
    UNKNOWN = "unknown"  # the channel may be asked no more: settled by its settlement file or a person


S = RefundStatus

TRANSITIONS: dict[RefundStatus, frozenset[RefundStatus]] = {
    S.REQUESTED: frozenset({S.PENDING_REVIEW, S.APPROVED, S.REJECTED, S.CANCELLED}),
    S.PENDING_REVIEW: frozenset({S.APPROVED, S.REJECTED, S.CANCELLED}),
    S.APPROVED: frozenset({S.PROCESSING, S.CANCELLED}),
    S.PROCESSING: frozenset({S.SUCCEEDED, S.FAILED, S.CLOSED, S.ABNORMAL, S.UNKNOWN}),
    S.UNKNOWN: frozenset({S.SUCCEEDED, S.FAILED, S.ABNORMAL}),
    S.FAILED: frozenset({S.PROCESSING, S.CLOSED, S.ABNORMAL}),
    S.ABNORMAL: frozenset({S.PROCESSING, S.SUCCEEDED, S.FAILED, S.CLOSED}),
    S.REJECTED: frozenset(),
    S.CANCELLED: frozenset(),
    S.SUCCEEDED: frozenset(),
    S.CLOSED: frozenset(),
}

TERMINAL: frozenset[RefundStatus] = frozenset(s for s, nxt in TRANSITIONS.items() if not nxt)

# States whose amount no longer holds a reservation on the sale.
RELEASED: frozenset[RefundStatus] = frozenset({S.REJECTED, S.CANCELLED, S.CLOSED})
EVIDENCE_SOURCES = frozenset({"reconciliation", "person"})  # who settles an unknown case: never a channel answer
NOT_SETTLED = "NOT_IN_SETTLEMENT"  # a failure proven after unknown: reservation released, never sent again


def check_transition(current: RefundStatus, target: RefundStatus) -> None:
    check_step(TRANSITIONS, current, target, "state.invalid_transition")


_TARGET: dict[Outcome, RefundStatus] = {
    Outcome.SUCCEEDED: S.SUCCEEDED,
    Outcome.DECLINED: S.FAILED,
    Outcome.CLOSED: S.CLOSED,
    Outcome.ABNORMAL: S.ABNORMAL,
    Outcome.UNRESOLVED: S.UNKNOWN,
}
MAX_NOTE = MAX_REASON_TEXT = 500  # characters


@dataclass(slots=True)
class RefundCase(EventSource):
    id: str
    merchant_id: str
    store_id: str
    terminal_id: str
    sale_id: str
    refund_no: str
    amount_fen: int
    currency: str
    reason: Reason
    note: str
    status: RefundStatus
    requested_by: str
    requested_role: str
    created_at: datetime
    updated_at: datetime
    required_approvals: int = 1
    approved_by: list[str] = field(default_factory=list)
    review_reason: str = ""
    evidence_ids: list[str] = field(default_factory=list)
    channel: str = ""
    # Execution on the channel: the refund_no above is the only number ever sent.
    method: str = ""
    attempts: int = 0
    submitted: bool = False  # the channel acknowledged receiving this refund_no at least once
    channel_refund_id: str = ""
    last_code: str = ""
    next_check_at: datetime | None = None
    checks: int = 0  # how often the channel was asked about this refund: drives the query back-off
    sent_at: datetime | None = None  # first hand-over to the channel
    succeeded_at: datetime | None = None
    expected_arrival: date | None = None
    rerouted_by: str = ""  # who sent it to cash or transfer: someone else confirms the payout
    request_id: str = ""  # the API request that opened it: the worker's log lines for the case name it too

    @classmethod
    def open(
        cls,
        *,
        id: str,
        refund_no: str,
        merchant_id: str,
        store_id: str,
        terminal_id: str,
        sale_id: str,
        channel: str,
        amount_fen: int,
        currency: str,
        reason: Reason,
        note: str,
        evidence_ids: list[str],
        actor: Actor,
        policy: RefundPolicy,
        now: datetime,
    ) -> RefundCase:
        """A new request, routed at once: auto-approved when small, otherwise to review."""
        if len(note) > MAX_NOTE:
            raise Invalid("refund.note_too_long", max=MAX_NOTE)
        case = cls(
            id=id,
            merchant_id=merchant_id,
            store_id=store_id,
            terminal_id=terminal_id,
            sale_id=sale_id,
            refund_no=refund_no,
            amount_fen=amount_fen,
            currency=currency,
            reason=reason,
            note=note,
            status=S.REQUESTED,
            requested_by=actor.id,
            requested_role=actor.role.value,
            created_at=now,
            updated_at=now,
            required_approvals=approvals_needed(policy, amount_fen),
            evidence_ids=list(evidence_ids),
            channel=channel,
        )
        case._record("refund.requested", actor, now, None, S.REQUESTED, note, amount_fen=amount_fen)
        if auto_approvable(policy, amount_fen):
            case._move(S.APPROVED, SYSTEM_ACTOR, now, "refund.auto_approved", "auto_approve_limit")
        else:
            case._move(S.PENDING_REVIEW, SYSTEM_ACTOR, now, "refund.review_required", "")
        return case

    def approve(self, reviewer: Actor, policy: RefundPolicy, reason: str, now: datetime) -> None:
        if self.status is not S.PENDING_REVIEW:
            check_transition(self.status, S.APPROVED)  # raises the precise transition error
        check_reviewer(policy, reviewer, self.requested_by, self.amount_fen, self.approved_by)
        self.approved_by.append(reviewer.id)
        if len(self.approved_by) < self.required_approvals:
            self._record(
                "refund.approval_recorded",
                reviewer,
                now,
                self.status,
                self.status,
                reason,
                approvals=len(self.approved_by),
                required=self.required_approvals,
            )
            self._touch(now)
            return
        self.review_reason = reason
        self._move(S.APPROVED, reviewer, now, "refund.approved", reason)

    def reject(self, reviewer: Actor, reason: str, now: datetime) -> None:
        if not reason.strip():
            raise Invalid("review.reason_required")
        if len(reason) > MAX_REASON_TEXT:
            raise Invalid("review.reason_too_long", max=MAX_REASON_TEXT)
        check_transition(self.status, S.REJECTED)
        if reviewer.role not in REVIEWERS:
            raise Forbidden("auth.forbidden", action="refund.review", role=reviewer.role.value)
        if reviewer.id == self.requested_by:
            raise Forbidden("review.self_approval")
        self.review_reason = reason
        self._move(S.REJECTED, reviewer, now, "refund.rejected", reason)

    def cancel(self, actor: Actor, reason: str, now: datetime) -> None:
        """The requester, or a reviewer, withdraws the request before it is executed."""
        if len(reason) > MAX_REASON_TEXT:
            raise Invalid("review.reason_too_long", max=MAX_REASON_TEXT)
        check_transition(self.status, S.CANCELLED)
        if actor.id != self.requested_by and actor.role not in REVIEWERS:
            raise Forbidden("refund.cancel_not_requester")
        self._move(S.CANCELLED, actor, now, "refund.cancelled", reason)

    def start_processing(self, method: str, now: datetime, actor: Actor = SYSTEM_ACTOR, reason: str = "") -> None:
        """Hand the case to the channel: recorded before the first call, so a crash right after it is
        found again by the worker, which then asks the channel before it ever sends again."""
        before = self.status
        self._move(S.PROCESSING, actor, now, "refund.processing", reason)
        self.method = method
        self.attempts += 1
        self.pending_events[-1] = replace(
            self.pending_events[-1], data={"method": method, "attempt": self.attempts, "from": before.value}
        )

    def apply_answer(self, answer: ChannelAnswer, now: datetime, source: str) -> bool:
        """Apply what the channel said (a submit, query or callback answer). Idempotent: the same outcome
        twice changes nothing; an outcome that contradicts a final one goes to a person. True if it changed."""
        if self.status is S.UNKNOWN:
            return False  # the channel can no longer tell: only evidence settles it (settle_by_evidence)
        answer = of_this_amount(answer, self.amount_fen)
        if answer.channel_refund_id and answer.channel_refund_id != self.channel_refund_id:
            self.channel_refund_id = answer.channel_refund_id
        if answer.code:
            self.last_code = answer.code
        if answer.outcome in (Outcome.ACCEPTED, Outcome.SUCCEEDED, Outcome.CLOSED, Outcome.ABNORMAL, Outcome.DECLINED):
            self.submitted = True
        target = _TARGET.get(answer.outcome)
        if target is None or target is self.status:
            return False
        if self.status in TERMINAL or target not in TRANSITIONS[self.status]:
            if self.status is S.ABNORMAL:
                return False  # already with a person
            self._record(
                "refund.contradictory_outcome",
                SYSTEM_ACTOR,
                now,
                self.status,
                self.status,
                answer.message,
                outcome=answer.outcome.value,
                code=answer.code,
                source=source,
            )
            if S.ABNORMAL in TRANSITIONS[self.status]:
                self._move(S.ABNORMAL, SYSTEM_ACTOR, now, "refund.abnormal", "contradictory channel outcome")
            return True
        if target is S.SUCCEEDED:
            self.succeeded_at = answer.succeeded_at or now
        if target is S.UNKNOWN:
            self.next_check_at = None  # nobody may ask again: the sweep never picks it
        self._move(target, SYSTEM_ACTOR, now, f"refund.{target.value}", answer.message or answer.code)
        ev = self.pending_events[-1]
        self.pending_events[-1] = replace(
            ev, data={"source": source, "code": answer.code, "channel_refund_id": answer.channel_refund_id}
        )
        return True

    def switch_method(self, method: str, now: datetime, code: str) -> None:
        """The channel refused this method but another fits (a void after settlement → a refund): the
        same refund_no is sent again with the new method; nothing was executed."""
        self._record(
            "refund.method_changed",
            SYSTEM_ACTOR,
            now,
            self.status,
            self.status,
            code,
            before_method=self.method,
            after_method=method,
        )
        self.method = method
        self.submitted = False
        self._touch(now)

    def retry(self, actor: Actor, reason: str, now: datetime) -> None:
        """A person sends a failed refund again — with the same refund_no, never a new one."""
        if self.status is not S.FAILED:
            check_transition(self.status, S.PROCESSING)
            raise IllegalTransition("state.invalid_transition", self.status.value, S.PROCESSING.value)
        self._check_still_reserved()
        self.start_processing(self.method, now, actor, reason)
        self.next_check_at = now

    def resolve(self, actor: Actor, target: RefundStatus, reason: str, now: datetime) -> None:
        """A person settles an abnormal case (money stuck, contradictory answers) or an unknown one (the
        channel can no longer tell) with a recorded reason."""
        if not reason.strip():
            raise Invalid("review.reason_required")
        if self.status is S.UNKNOWN:
            self.settle_by_evidence(target, actor, "person", reason, now)
            return
        if self.status is not S.ABNORMAL:
            raise Conflict("refund.not_abnormal", current=self.status.value)
        if target is S.PROCESSING:
            self.start_processing(self.method, now, actor, reason)
            self.next_check_at = now
            return
        if target is S.SUCCEEDED:
            self.succeeded_at = now
        self._move(target, actor, now, "refund.resolved", reason)

    def settle_by_evidence(self, target: RefundStatus, actor: Actor, source: str, reason: str, now: datetime) -> None:
        """An unknown case settled by evidence: the acquirer's settlement file (``reconciliation``) or a person
        with a reason. A proven failure lets go of the reservation, so this case is never sent again."""
        if source not in EVIDENCE_SOURCES:
            raise Invalid("refund.invalid_resolution", target=target.value)
        if not reason.strip():
            raise Invalid("review.reason_required")
        if self.status is not S.UNKNOWN:
            raise Conflict("refund.not_unknown", current=self.status.value)
        check_transition(self.status, target)
        if target is S.SUCCEEDED:
            self.succeeded_at = now
        if target is S.FAILED:
            self.last_code = NOT_SETTLED
        self.next_check_at = None
        self._move(target, actor, now, "refund.resolved" if source == "person" else "refund.settled_by_file", reason)
        self.pending_events[-1] = replace(self.pending_events[-1], data={"source": source})

    def _check_still_reserved(self) -> None:
        if not self.holds_reservation:
            raise Conflict("refund.reservation_released", current=self.status.value)

    def reroute(self, actor: Actor, method: str, reason: str, now: datetime) -> None:
        """Away from the original route (card cancelled, wallet account closed): an exception that needs a
        reviewer other than the requester and a recorded reason; paid by cash or bank transfer, then
        confirmed by a second person."""
        if method not in ("cash", "transfer"):
            raise Invalid("refund.invalid_route", method=method)
        if not reason.strip():
            raise Invalid("review.reason_required")
        if self.status not in (S.ABNORMAL, S.FAILED):
            raise Conflict("refund.not_reroutable", current=self.status.value)
        if actor.role not in REVIEWERS:
            raise Forbidden("auth.forbidden", action="refund.reroute", role=actor.role.value)
        if actor.id == self.requested_by:
            raise Forbidden("review.self_approval")
        self._check_still_reserved()
        before_method = self.method
        self.rerouted_by = actor.id
        self.start_processing(method, now, actor, reason)
        self.pending_events[-1] = replace(
            self.pending_events[-1],
            action="refund.rerouted",
            data={"from_method": before_method, "to_method": method, "attempt": self.attempts},
        )
        self.next_check_at = None
        self.submitted = True

    def confirm_offline_payout(self, actor: Actor, reference: str, now: datetime) -> None:
        """Cash paid from the till, or a cheque cleared: confirmed by a second person, never the requester."""
        if self.status is not S.PROCESSING or self.method not in ("cash", "cheque", "transfer"):
            raise Conflict("refund.not_awaiting_confirmation", current=self.status.value)
        if actor.id == self.requested_by:
            raise Forbidden("refund.second_person_required")
        if actor.id == self.rerouted_by:  # who chose to pay outside the channel does not also confirm it paid
            raise Forbidden("review.same_person")
        self.channel_refund_id = reference or self.channel_refund_id
        self.succeeded_at = now
        self._move(S.SUCCEEDED, actor, now, "refund.payout_confirmed", reference)

    def refuse_after_hold(self, actor: Actor, reason: str, now: datetime) -> None:
        """A second person stops a refund that a high risk alert held before any money moved (the role and the
        four-eyes check are the use case's): approved → cancelled, not yet approved → rejected."""
        if not reason.strip():
            raise Invalid("review.reason_required")
        if len(reason) > MAX_REASON_TEXT:
            raise Invalid("review.reason_too_long", max=MAX_REASON_TEXT)
        self.review_reason = reason
        self._move(S.CANCELLED if self.status is S.APPROVED else S.REJECTED, actor, now, "refund.hold_rejected", reason)

    @property
    def holds_reservation(self) -> bool:
        """False once the amount went back to the sale or into ``refunded`` (a failure proven after unknown)."""
        if self.status is S.FAILED and self.last_code == NOT_SETTLED:
            return False
        return self.status not in RELEASED and self.status is not S.SUCCEEDED

    def _move(self, target: RefundStatus, actor: Actor, now: datetime, action: str, reason: str) -> None:
        check_transition(self.status, target)
        before = self.status
        self.status = target
        self._touch(now)
        self._record(action, actor, now, before, target, reason)

    def _touch(self, now: datetime) -> None:
        self.updated_at = now

    def _record(
        self,
        action: str,
        actor: Actor,
        now: datetime,
        before: RefundStatus | None,
        after: RefundStatus | None,
        reason: str,
        **data: Any,
    ) -> None:
        self.pending_events.append(CaseEvent.between(action, actor, now, before, after, reason, data))
