"""The refund case's states and the one table of allowed transitions.

Nothing else in the code base decides whether a status may change: the
aggregate asks :func:`check_transition`, which raises ``state.invalid_transition``.
"""

from __future__ import annotations

from enum import StrEnum

from posrefund.domain.errors import IllegalTransition


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


S = RefundStatus

TRANSITIONS: dict[RefundStatus, frozenset[RefundStatus]] = {
    S.REQUESTED: frozenset({S.PENDING_REVIEW, S.APPROVED, S.REJECTED, S.CANCELLED}),
    S.PENDING_REVIEW: frozenset({S.APPROVED, S.REJECTED, S.CANCELLED}),
    S.APPROVED: frozenset({S.PROCESSING, S.CANCELLED}),
    S.PROCESSING: frozenset({S.SUCCEEDED, S.FAILED, S.CLOSED, S.ABNORMAL}),
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


def check_transition(current: RefundStatus, target: RefundStatus) -> None:
    if target not in TRANSITIONS[current]:
        raise IllegalTransition("state.invalid_transition", current.value, target.value)
