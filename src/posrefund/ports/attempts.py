"""Each time a worker takes a refund to its channel: an attempt, under a fencing token.

A claim opens an attempt with the case's next ``fence``; only a writer holding the case's current fence may
apply a worker's answer (the database refuses the others), so a worker that lost its lease while a slow call
ran cannot overwrite what a later worker recorded. Every attempt stays on record, stale ones included."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


class StaleFence(Exception):
    """A worker's fence is no longer the case's: another worker claimed it since. Its answer is not applied."""

    def __init__(self, case_id: str, fence: int) -> None:
        super().__init__(f"case {case_id}: fence {fence} is stale")
        self.case_id = case_id
        self.fence = fence


@dataclass(frozen=True, slots=True)
class RefundAttempt:
    """One hand-over of a refund to its channel, as stored and as the attempts list shows it."""

    id: str
    merchant_id: str
    case_id: str
    attempt_no: int
    fence: int
    refund_no: str  # the number sent; a wallet's retry after a final failure sends a new one
    channel: str
    method: str
    worker: str
    started_at: datetime
    lease_until: datetime
    previous_refund_no: str = ""  # the failed number this attempt's new number replaces
    finished_at: datetime | None = None
    call: str = ""  # "submit" or "query": what the answer below answered
    outcome: str = ""  # the channel's outcome, or "stale" when the answer came after the case moved on
    code: str = ""
    message: str = ""


class RefundAttemptRepo(Protocol):
    def open_attempt(self, attempt: RefundAttempt) -> None: ...
    def finish_attempt(
        self, case_id: str, fence: int, finished_at: datetime, call: str, outcome: str, code: str, message: str
    ) -> None: ...
    def renew_attempt(self, case_id: str, fence: int, lease_until: datetime) -> None: ...
    def last_attempt(self, case_id: str) -> RefundAttempt | None: ...
    def attempts_of(self, merchant_id: str, case_id: str) -> list[RefundAttempt]: ...
