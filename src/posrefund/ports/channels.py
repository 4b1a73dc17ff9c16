"""The payment channels a refund goes back through, and their signed callbacks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from posrefund.domain.channel import CallbackNotice, ChannelAnswer, RefundOrder


class PaymentChannel(Protocol):
    """One route back to the payer. ``submit`` and ``query`` never raise for channel trouble: they answer
    ``Outcome.UNKNOWN`` and the worker queries later with the same refund number."""

    name: str

    def submit(self, order: RefundOrder) -> ChannelAnswer: ...

    def query(self, order: RefundOrder) -> ChannelAnswer: ...


class CallbackVerifier(Protocol):
    """Checks a channel's signed notification; raises ``CallbackRejected`` unless it is genuine and fresh."""

    def verify(self, headers: dict[str, str], body: bytes) -> CallbackNotice: ...


@dataclass(frozen=True)
class ChannelCall:
    """One call the worker made to a channel, told to whoever watches (the worker's metrics and log line):
    which case (and the API request that opened it), where, what was asked, what came back, how long it took.
    ``outcome`` is ``error`` when the adapter raised instead of answering."""

    case_id: str
    request_id: str
    channel: str
    method: str
    call: str  # submit | query
    outcome: str
    code: str
    seconds: float
