"""Answers of the account routes: terminal keys as listed (never their secret)."""

from __future__ import annotations

from pydantic import Field

from posrefund.entrypoints.api.responses import Out


class ApiKeyInfo(Out):
    id: str
    merchant_id: str
    terminal_id: str
    role: str
    created_at: str | None
    revoked_at: str | None


class ApiKeyInfoList(Out):
    items: list[ApiKeyInfo]


class PolicyOutcome(Out):
    """How a policy would have treated the period's refunds."""

    review: int = Field(description="above the auto-approval limit: a supervisor reviews first")
    two_person: int = Field(description="above the two-person limit: two approvers")
    refused: int = Field(description="breaking at least one rule")
    refused_by: dict[str, int] = Field(description="rule code → refunds it refused (one refund may break several)")


class PolicyPreviewOut(Out):
    cases: int = Field(description="the refunds judged: the period's newest, at most 2000")
    days: int
    capped: bool
    current: PolicyOutcome
    proposed: PolicyOutcome
