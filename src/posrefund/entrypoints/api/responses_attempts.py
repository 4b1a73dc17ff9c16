"""The attempts list of a refund: each time a worker took it to its channel, under which fence, with what
answer (a late answer from a worker that had lost the case shows as ``stale``, never applied)."""

from __future__ import annotations

from posrefund.entrypoints.api.responses import Out


class Attempt(Out):
    attempt_no: int  # the hand-over (a person's retry starts the next); several claims may share one
    fence: int  # the claim's fencing token: strictly increasing per case
    refund_no: str  # the number sent
    previous_refund_no: str  # the failed number a wallet retry's new number replaces ("" when none)
    channel: str
    method: str
    worker: str
    started_at: str | None
    lease_until: str | None
    finished_at: str | None
    call: str  # "submit" or "query": what the outcome answered ("" before an answer)
    outcome: str  # the channel's outcome, "stale" (came after another claim; not applied) or "" (no answer yet)
    code: str
    message: str


class AttemptList(Out):
    items: list[Attempt]
