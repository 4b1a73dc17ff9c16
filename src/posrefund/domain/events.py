"""What happened to a case: each becomes one audit row and, where someone must act, an outbox row."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
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

    @classmethod
    def between(
        cls,
        action: str,
        actor: Actor,
        at: datetime,
        before: StrEnum | None,
        after: StrEnum | None,
        reason: str,
        data: dict[str, Any],
    ) -> CaseEvent:
        """A step of an aggregate's state, its states written as the stored values they are."""
        return cls(action, actor, at, before.value if before else None, after.value if after else None, reason, data)


@dataclass(slots=True, kw_only=True)
class EventSource:
    """An aggregate whose steps leave case events behind, written by its repository in the same transaction.

    ``version`` is the row's optimistic lock: the repository writes only over the version it read.
    """

    version: int = 0
    pending_events: list[CaseEvent] = field(default_factory=list)
