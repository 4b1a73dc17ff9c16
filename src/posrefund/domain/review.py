"""Who may approve (审核): role limits, no self-approval, the two-person rule."""

from __future__ import annotations

from posrefund.domain.errors import Forbidden
from posrefund.domain.policy import RefundPolicy
from posrefund.domain.roles import REVIEWERS, Actor, Role


def auto_approvable(policy: RefundPolicy, amount_fen: int) -> bool:
    """Small, clean requests pass without a person."""
    return amount_fen <= policy.auto_approve_limit_fen


def approvals_needed(policy: RefundPolicy, amount_fen: int) -> int:
    return 2 if amount_fen > policy.two_person_limit_fen else 1


def check_reviewer(
    policy: RefundPolicy, reviewer: Actor, requested_by: str, amount_fen: int, approved_by: list[str]
) -> None:
    """Raise unless ``reviewer`` may approve this case now."""
    if reviewer.role not in REVIEWERS:
        raise Forbidden("auth.forbidden", action="refund.review", role=reviewer.role.value)
    if reviewer.id == requested_by:
        raise Forbidden("review.self_approval")
    if reviewer.id in approved_by:
        raise Forbidden("review.second_approver_required")
    if reviewer.role is Role.SUPERVISOR and amount_fen > policy.supervisor_limit_fen:
        raise Forbidden("review.limit_exceeded", limit_fen=policy.supervisor_limit_fen, amount_fen=amount_fen)
