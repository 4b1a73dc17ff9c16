"""Rate limits with the ``limits`` library: calls per second to each channel (in this process), and the
API's quotas on callers (in this process or a shared store)."""

from __future__ import annotations

import time
from typing import cast

from limits import RateLimitItemPerSecond, parse
from limits.storage import MemoryStorage, Storage, storage_from_string
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


class Quotas:
    """The API's limits on how fast anyone may ask, counted in a moving window (``limits``) in this
    process's memory or, with several server processes, in the shared store ``storage`` names.

    ``take`` admits a request under every named limit at once (or none: a refused request is not counted)
    and answers the seconds to wait, 0 when admitted. The progressive sign-in delay counts attempts per
    source address since its last success: ``free`` go at once, then each one makes the next wait 1, 2, 4 …
    seconds, at most ``cap``."""

    def __init__(self, limits: dict[str, str], *, storage: str = "memory://", free: int = 5, cap: int = 60) -> None:
        self._storage = cast(Storage, storage_from_string(storage))
        self._limiter = MovingWindowRateLimiter(self._storage)
        self._items = {name: parse(value) for name, value in limits.items() if value}
        self._free = free
        self._cap = cap

    def take(self, checks: list[tuple[str, str]]) -> float:
        counted = [(self._items[name], name, key) for name, key in checks if name in self._items]
        for item, name, key in counted:
            if not self._limiter.test(item, "posrefund", name, key):
                reset_at = self._limiter.get_window_stats(item, "posrefund", name, key).reset_time
                return max(1.0, reset_at - time.time())
        for item, name, key in counted:
            self._limiter.hit(item, "posrefund", name, key)
        return 0.0

    def sign_in_wait(self, source: str) -> float:
        """Seconds before the next sign-in attempt from ``source`` may go; 0 now."""
        key = f"posrefund/signin-wait/{source}"
        if self._storage.get(key) <= 0:
            return 0.0
        return max(1.0, self._storage.get_expiry(key) - time.time())

    def sign_in_attempt(self, source: str) -> None:
        """Count an attempt as it starts (so concurrent ones count too); past the free ones, the next waits."""
        tries = self._storage.incr(f"posrefund/signin-tries/{source}", _FORGET_TRIES_AFTER)
        if tries >= self._free:
            self._storage.incr(f"posrefund/signin-wait/{source}", min(self._cap, 2 ** (tries - self._free)))

    def sign_in_succeeded(self, source: str) -> None:
        self._storage.clear(f"posrefund/signin-tries/{source}")
        self._storage.clear(f"posrefund/signin-wait/{source}")


_FORGET_TRIES_AFTER = 3600  # seconds without an attempt after which an address starts afresh
