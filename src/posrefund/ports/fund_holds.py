"""The channels that hold funds without taking them: card pre-authorisation and Alipay fund authorisation."""

from __future__ import annotations

from typing import Protocol

from posrefund.domain.channel import ChannelAnswer
from posrefund.domain.fund_hold import HoldOrder


class FundHoldChannel(Protocol):
    """One channel's hold operations. Like ``PaymentChannel``, ``execute`` and ``query`` never raise for channel
    trouble: they answer ``Outcome.UNKNOWN`` (or ``NOT_SENT`` when nothing left) and the caller queries later with
    the same ``operation_no``; ``NOT_FOUND`` from ``query`` means the operation never happened and may be sent
    again with the same number. ``SUCCEEDED`` is said only when the channel executed the operation."""

    name: str

    def execute(self, order: HoldOrder) -> ChannelAnswer: ...

    def query(self, order: HoldOrder) -> ChannelAnswer: ...
