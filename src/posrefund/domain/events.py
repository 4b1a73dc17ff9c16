"""What happened to a case: each becomes one audit row and, where someone must act, an outbox row."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from posrefund.domain.roles import Actor


@dataclass(frozen=True, slots=True)
class CaseEvent:
    action: str  # e.g. "refund.approved"
    actor: Actor
    at: datetime
    before: str | None
    after: str | None
    reason: str = ""
    data: dict[str, Any] = field(default_factory=dict)
