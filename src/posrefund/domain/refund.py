"""The refund case (退款单) aggregate: intent methods guard the state machine and record events."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from posrefund.domain.errors import Forbidden, Invalid
from posrefund.domain.events import CaseEvent
from posrefund.domain.policy import Reason, RefundPolicy
from posrefund.domain.review import approvals_needed, auto_approvable, check_reviewer
from posrefund.domain.roles import REVIEWERS, SYSTEM_ACTOR, Actor
from posrefund.domain.status import RELEASED, RefundStatus, check_transition

S = RefundStatus
MAX_NOTE = 500
MAX_REASON_TEXT = 500


@dataclass(slots=True)
class RefundCase:
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
    version: int = 0
    pending_events: list[CaseEvent] = field(default_factory=list)

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

    @property
    def holds_reservation(self) -> bool:
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
        self.pending_events.append(
            CaseEvent(
                action=action,
                actor=actor,
                at=now,
                before=before.value if before else None,
                after=after.value if after else None,
                reason=reason,
                data=data,
            )
        )
