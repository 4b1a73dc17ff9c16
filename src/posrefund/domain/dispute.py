"""The dispute (争议) aggregate: the customer disagrees with how a refund was handled.

Customer service opens one on a refund case with the customer's claim, adds evidence and may hand it to a
third party; a supervisor records the outcome. Which of these moves a dispute allows is decided by the one
table below, so the service never compares statuses: it asks the aggregate, which refuses with
:class:`IllegalTransition` (code ``dispute.closed``) and stays unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from posrefund.domain.errors import Conflict, Invalid, check_step
from posrefund.domain.events import CaseEvent, EventSource
from posrefund.domain.free_text import free_text
from posrefund.domain.roles import Actor

MAX_TEXT = 2000
MAX_EVIDENCE = 20
MAX_REFERENCE = 64
_FIELD_ZH = {"claim": "顾客诉求", "reference": "第三方受理编号", "reason": "处理理由"}  # for the Chinese message


class DisputeStatus(StrEnum):
    """The values are what the ``disputes`` table and the API have always carried."""

    OPEN = "open"
    ESCALATED = "escalated"  # with a third party, whose reference is kept
    UPHELD = "upheld"  # a new refund went through the normal flow
    REJECTED = "rejected"  # the reason went to the customer


S = DisputeStatus

# A move to the same state is an allowed step that keeps the state: evidence added to an open or escalated
# dispute, or an escalated one handed on (mediation, then arbitration). A closed dispute allows nothing.
TRANSITIONS: dict[DisputeStatus, frozenset[DisputeStatus]] = {
    S.OPEN: frozenset({S.OPEN, S.ESCALATED, S.UPHELD, S.REJECTED}),
    S.ESCALATED: frozenset({S.ESCALATED, S.UPHELD, S.REJECTED}),
    S.UPHELD: frozenset(),
    S.REJECTED: frozenset(),
}

TERMINAL: frozenset[DisputeStatus] = frozenset(s for s, nxt in TRANSITIONS.items() if not nxt)
OPEN_STATES: frozenset[DisputeStatus] = frozenset(TRANSITIONS) - TERMINAL
OUTCOMES: tuple[DisputeStatus, ...] = (S.UPHELD, S.REJECTED)


class ThirdParty(StrEnum):
    """Who a dispute may be escalated to."""

    MEDIATION = "mediation"
    ARBITRATION = "arbitration"
    ACQUIRER = "acquirer"


def check_transition(current: DisputeStatus, target: DisputeStatus) -> None:
    check_step(TRANSITIONS, current, target, "dispute.closed", status=current.value)


def dispute_text(value: str, field: str) -> str:
    """A required free text (claim, third party's reference, outcome reason): trimmed, bounded, no card number."""
    return free_text(
        value, field, limit=MAX_TEXT, missing="dispute.text_required", field_zh=_FIELD_ZH.get(field, field)
    )


def check_claimed_amount(claimed_fen: int | None) -> None:
    """The customer may name an amount, or leave it to the outcome; a named one is a positive integer."""
    if claimed_fen is not None and (isinstance(claimed_fen, bool) or claimed_fen <= 0):
        raise Invalid("refund.amount_not_positive", amount_fen=claimed_fen)


def third_party(to: str) -> ThirdParty:
    try:
        return ThirdParty(to)
    except ValueError:
        raise Invalid("dispute.invalid_party", party=to) from None


def reference_text(reference: str) -> str:
    """The third party's own number (the mediator's case no., the acquirer's ticket): short, it is a key."""
    reference = dispute_text(reference, "reference")
    if len(reference) > MAX_REFERENCE:
        raise Invalid("request.field_too_long", field="reference", max=MAX_REFERENCE)
    return reference


def outcome_of(outcome: str) -> DisputeStatus:
    """The closing state a supervisor may record: upheld or rejected, nothing else."""
    if outcome not in OUTCOMES:
        raise Invalid("dispute.invalid_outcome", outcome=outcome)
    return DisputeStatus(outcome)


def status_filter(status: str | None) -> DisputeStatus | None:
    if status is None:
        return None
    try:
        return DisputeStatus(status)
    except ValueError:
        raise Invalid("dispute.invalid_status", status=status) from None


def evidence_list(ids: Iterable[str]) -> list[str]:
    """Each piece once, in the order given, and not more than a person can review."""
    wanted = list(dict.fromkeys(ids))
    if len(wanted) > MAX_EVIDENCE:
        raise Invalid("dispute.too_much_evidence", max=MAX_EVIDENCE)
    return wanted


def refuse_second_dispute(statuses: Iterable[DisputeStatus]) -> None:
    """One open dispute per refund case: a second claim belongs to the one already open."""
    if any(s in OPEN_STATES for s in statuses):
        raise Conflict("dispute.already_open")


@dataclass(slots=True)
class Dispute(EventSource):
    id: str
    merchant_id: str
    case_id: str
    status: DisputeStatus
    claim: str
    claimed_fen: int | None
    evidence_ids: list[str]
    opened_by: str
    opened_at: datetime
    updated_at: datetime
    escalated_to: ThirdParty | None = None
    escalation_ref: str = ""
    outcome_reason: str = ""
    new_case_id: str | None = None
    closed_at: datetime | None = None

    @classmethod
    def open(
        cls,
        *,
        id: str,
        merchant_id: str,
        case_id: str,
        claim: str,
        claimed_fen: int | None,
        evidence_ids: list[str],
        actor: Actor,
        now: datetime,
    ) -> Dispute:
        """The customer's claim (already checked with :func:`dispute_text`) on one refund case."""
        check_claimed_amount(claimed_fen)
        dispute = cls(
            id=id,
            merchant_id=merchant_id,
            case_id=case_id,
            status=S.OPEN,
            claim=claim,
            claimed_fen=claimed_fen,
            evidence_ids=evidence_list(evidence_ids),
            opened_by=actor.id,
            opened_at=now,
            updated_at=now,
            version=1,
        )
        dispute._record(
            "dispute.opened", actor, now, claim, claimed_fen=claimed_fen, evidence_ids=list(dispute.evidence_ids)
        )
        return dispute

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATES

    @property
    def tells_customer_the_reason(self) -> bool:
        """A rejected dispute's reason is sent to the customer; an upheld one speaks through its refund."""
        return self.status is S.REJECTED

    def check_move(self, target: DisputeStatus) -> None:
        """Refuse now what the intent would refuse later (before a refund is created for the outcome)."""
        check_transition(self.status, target)

    def evidence_to_add(self, evidence_ids: Iterable[str]) -> list[str]:
        """The new pieces, once each, if the dispute still takes evidence."""
        self.check_move(self.status)
        return evidence_list(evidence_ids)

    def add_evidence(self, evidence_ids: Iterable[str], actor: Actor, now: datetime) -> None:
        added = self.evidence_to_add(evidence_ids)
        self.evidence_ids = evidence_list([*self.evidence_ids, *added])
        self.updated_at = now
        self._record("dispute.evidence_added", actor, now, "", evidence_ids=added)

    def escalate(self, to: ThirdParty, reference: str, actor: Actor, now: datetime) -> None:
        """Hand the dispute to a third party; each hand-over is recorded, the latest one is kept."""
        self.check_move(S.ESCALATED)
        self.status = S.ESCALATED
        self.escalated_to = to
        self.escalation_ref = reference
        self.updated_at = now
        self._record("dispute.escalated", actor, now, "", to=to.value, reference=reference)

    def upheld_amount(self, amount_fen: int | None) -> int:
        """What the new refund gives back: the amount the supervisor names, else the customer's claim."""
        amount = amount_fen if amount_fen is not None else self.claimed_fen
        if amount is None or isinstance(amount, bool) or amount <= 0:
            raise Invalid("dispute.amount_required")
        return int(amount)

    def uphold(self, reason: str, new_case_id: str, actor: Actor, now: datetime) -> None:
        """The customer was right: ``new_case_id`` is the refund requested through the normal flow."""
        self._close(S.UPHELD, reason, new_case_id, actor, now)

    def reject(self, reason: str, actor: Actor, now: datetime) -> None:
        self._close(S.REJECTED, reason, None, actor, now)

    def _close(self, target: DisputeStatus, reason: str, new_case_id: str | None, actor: Actor, now: datetime) -> None:
        self.check_move(target)
        self.status = target
        self.outcome_reason = reason
        self.new_case_id = new_case_id
        self.closed_at = now
        self.updated_at = now
        self._record(f"dispute.{target.value}", actor, now, reason, new_case_id=new_case_id)

    def _record(self, action: str, actor: Actor, now: datetime, reason: str, **data: Any) -> None:
        """An event for the refund case's timeline; the case's status is filled in where it is written."""
        data = {"dispute_id": self.id, **data}
        self.pending_events.append(CaseEvent(action, actor, now, before=None, after=None, reason=reason, data=data))
