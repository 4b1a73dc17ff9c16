"""What the service keeps about itself: the audit trail, the outbox, idempotent answers, channel callbacks
already seen and the working-day calendar."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol, TypedDict

from posrefund.domain.audit import Checkpoint
from posrefund.domain.events import CaseEvent


class IdempotencyRow(TypedDict):
    """The answer once given to a request with this key, and a hash of that request to recognise a reuse."""

    scope: str
    key: str
    request_hash: str
    status_code: int
    body: bytes
    created_at: datetime


class AuditEventRow(TypedDict):
    """One event of an audit chain as kept: numbered ``seq`` in its chain (a merchant's id or "platform"),
    hashed over its fields and the hash of the event before it. ``data`` is the event's details as JSON.
    An event not yet chained (written, committed, waiting for the sequencer) has no seq, prev_hash or hash."""

    id: int
    chain: str
    seq: int | None
    case_id: str | None
    action: str
    actor_id: str
    actor_role: str
    at: datetime
    before: str | None
    after: str | None
    reason: str
    data: str
    prev_hash: str | None
    hash: str | None


@dataclass(frozen=True, slots=True)
class AuditQuery:
    """One page of a chain's events, newest first, narrowed by what is given; ``before_id`` is the cursor (the
    last id of the page before)."""

    case_id: str | None = None
    actor_id: str | None = None
    action: str | None = None
    at_from: datetime | None = None
    at_to: datetime | None = None
    before_id: int | None = None
    limit: int = 50


class AuditRepo(Protocol):
    def browse(self, chain: str, query: AuditQuery) -> list[AuditEventRow]: ...
    def append(self, merchant_id: str | None, case_id: str | None, event: CaseEvent) -> None: ...
    def append_many(self, merchant_id: str | None, case_id: str | None, events: Sequence[CaseEvent]) -> None: ...
    def case_events(self, merchant_id: str, case_id: str) -> list[AuditEventRow]: ...
    def chains(self) -> list[str]: ...
    def iter_chain(self, chain: str, after_seq: int = 0) -> Iterable[AuditEventRow]: ...
    def count_chained(self, chain: str, up_to_seq: int) -> int: ...
    def heads(self) -> dict[str, tuple[int, str]]: ...
    def checkpoints(self, chain: str) -> list[Checkpoint]: ...
    def latest_checkpoints(self) -> dict[str, Checkpoint]: ...
    def checkpoints_after(self, after_id: int) -> list[tuple[int, Checkpoint]]: ...
    def add_checkpoints(self, checkpoints: Sequence[Checkpoint]) -> None: ...


class CaseEventMessage(TypedDict):
    """What the outbox tells the notification sender of a case event (topic ``case.event``): which case,
    what happened to it and the status it is in now (None for an event that is not a move)."""

    case_id: str
    refund_no: str
    action: str
    status: str | None


class Outbox(Protocol):
    def put(
        self, topic: str, merchant_id: str, case_id: str | None, payload: CaseEventMessage, now: datetime
    ) -> None: ...
    def put_many(self, items: Sequence[tuple[str, str, str | None, CaseEventMessage, datetime]]) -> None: ...


class CallbackRepo(Protocol):
    def first_time(self, channel: str, notice_id: str, refund_no: str, now: datetime) -> bool: ...


class CalendarRepo(Protocol):
    def overrides(self) -> dict[date, bool]: ...
    def version(self) -> tuple[int, str]: ...
    def put_override(self, day: date, workday: bool, note: str, actor_id: str, now: datetime) -> None: ...


class IdempotencyRepo(Protocol):
    def lookup(self, scope: str, key: str) -> IdempotencyRow | None: ...
    def save(self, scope: str, key: str, request_hash: str, status: int, body: bytes, now: datetime) -> None: ...
