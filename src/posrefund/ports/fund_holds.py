"""The channels that hold funds without taking them: card pre-authorisation and Alipay fund authorisation."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol, runtime_checkable

from posrefund.domain.channel import ChannelAnswer
from posrefund.domain.fund_hold import HeldFunds, HoldOrder, HoldState, HoldStatus, HoldStep


class FundHoldChannel(Protocol):
    """One channel's hold operations. Like ``PaymentChannel``, ``execute`` and ``query`` never raise for channel
    trouble: they answer ``Outcome.UNKNOWN`` (or ``NOT_SENT`` when nothing left) and the caller queries later with
    the same ``operation_no``; ``NOT_FOUND`` from ``query`` means the operation never happened and may be sent
    again with the same number. ``SUCCEEDED`` is said only when the channel executed the operation."""

    name: str

    def execute(self, order: HoldOrder) -> ChannelAnswer: ...

    def query(self, order: HoldOrder) -> ChannelAnswer: ...


@runtime_checkable
class WithdrawableHoldChannel(FundHoldChannel, Protocol):
    """A channel that can withdraw a hold whose outcome stays unknown (Alipay alipay.fund.auth.operation.cancel):
    whatever it froze goes back and nothing is frozen later. CLOSED when withdrawn; UNKNOWN: ask again."""

    def cancel_freeze(self, order: HoldOrder) -> ChannelAnswer: ...


class OperationStatus(StrEnum):
    """Where one operation on a hold stands in posrefund's own queue."""

    PENDING = "pending"  # asked, not yet handed to the channel
    PROCESSING = "processing"  # handed over (or claimed) without a final answer: asked about again later
    SUCCEEDED = "succeeded"
    DECLINED = "declined"  # the channel refused it: nothing moved, the hold is as it was
    UNRESOLVED = "unresolved"  # the channel allows no more asking: the settlement file or a person decides
    CANCELLED = "cancelled"  # a freeze withdrawn because its outcome stayed unknown: nothing is held


OPEN_OPERATIONS = frozenset({OperationStatus.PENDING, OperationStatus.PROCESSING})


@dataclass(frozen=True, slots=True)
class HoldRecord:
    """A hold as posrefund keeps it: the channel's references, what became of it, the sale its completion made."""

    id: str
    merchant_id: str
    terminal_id: str
    held: HeldFunds
    status: HoldStatus
    version: int = 1
    sale_id: str = ""
    recorded_by: str = ""


@dataclass(frozen=True, slots=True)
class HoldOperation:
    """One release, completion or completion cancel, queued for the worker under its own ``operation_no``."""

    id: str
    merchant_id: str
    hold_id: str
    operation_no: str
    step: HoldStep
    amount_fen: int
    currency: str
    requested_by: str
    requested_at: datetime
    reason: str = ""
    status: OperationStatus = OperationStatus.PENDING
    attempts: int = 0
    fence: int = 0
    sent: bool = False
    next_check_at: datetime | None = None
    outcome: str = ""
    code: str = ""
    message: str = ""
    details: dict[str, str] = field(default_factory=dict)
    finished_at: datetime | None = None


class FundHoldRepo(Protocol):
    """Holds and their operations in the service's database."""

    def add_hold(self, hold: HoldRecord, now: datetime) -> bool:
        """False when the merchant already has a hold under this hold_no."""
        ...

    def get_hold(self, merchant_id: str, hold_id: str) -> HoldRecord | None: ...

    def save_hold(self, hold: HoldRecord, now: datetime) -> bool:
        """Compare-and-set on ``hold.version`` (stored as version + 1); False when someone changed it meanwhile."""
        ...

    def holds(self, merchant_id: str, states: frozenset[HoldState], limit: int) -> list[HoldRecord]: ...

    def held_until(
        self, until: datetime, limit: int, merchant_id: str | None = None, state: HoldState = HoldState.HELD
    ) -> list[HoldRecord]:
        """Holds in ``state`` (still held by default) whose validity ends at or before ``until``, soonest first."""
        ...

    def flagged_operations(self, merchant_id: str, limit: int) -> list[HoldOperation]:
        """The latest operation of each held or holding hold when it is a refused release or unresolved, newest
        first: what a supervisor must look at (``domain.hold_attention``)."""
        ...

    def add_operation(self, operation: HoldOperation) -> None: ...

    def get_operation(self, merchant_id: str, operation_id: str) -> HoldOperation | None: ...

    def operations_of(self, merchant_id: str, hold_id: str) -> list[HoldOperation]: ...

    def due_operations(self, now: datetime, limit: int) -> list[tuple[str, str]]:
        """(merchant_id, operation_id) of open operations due now (or whose claim's lease ran out)."""
        ...

    def claim(self, operation_id: str, fence: int, now: datetime, lease_until: datetime, worker: str) -> bool:
        """Take an open, due operation whose fence is still ``fence``: fence + 1, one more attempt, the lease."""
        ...

    def record(self, operation: HoldOperation, fence: int) -> bool:
        """Store the operation's new status and answer, only while the claim's ``fence`` is still the latest."""
        ...
