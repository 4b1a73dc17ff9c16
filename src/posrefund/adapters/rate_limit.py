"""Calls per second to each channel, counted in a moving window (``limits``), in this process."""

from __future__ import annotations

from limits import RateLimitItemPerSecond
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter


class ChannelRateLimiter:
    """``may_call(channel, per_second)``: True and counted when the channel may be called now."""

    def __init__(self) -> None:
        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        self._items: dict[int, RateLimitItemPerSecond] = {}

    def __call__(self, channel: str, per_second: int) -> bool:
        if per_second <= 0:
            return True
        item = self._items.setdefault(per_second, RateLimitItemPerSecond(per_second))
        return bool(self._limiter.hit(item, "posrefund-channel", channel))
