"""Rate limits with the ``limits`` library: calls per second to each channel (in this process), and the
API's quotas on callers (in this process or a shared store)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar, cast

import structlog
from limits import RateLimitItem, RateLimitItemPerSecond, parse
from limits.errors import StorageError
from limits.storage import MemoryStorage, Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

log = structlog.get_logger("posrefund.rate_limits")
_T = TypeVar("_T")


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
    seconds, at most ``cap``.

    When the shared store cannot be reached, this process counts on its own (as with ``memory://``) and
    tries the store again ``_RETRY_SHARED_AFTER`` seconds later. Neither fail-open nor fail-closed: refusing
    everyone would let whoever can upset the store stop sign-in and refunds for all merchants; admitting
    everyone would lift the brake on password guessing exactly while the store is down. Per-process counts
    still hold each process to its limits (N processes: at most N times the limit)."""

    def __init__(self, limits: dict[str, str], *, storage: str = "memory://", free: int = 5, cap: int = 60) -> None:
        shared = _storage_at(storage)
        local = shared if isinstance(shared, MemoryStorage) else MemoryStorage()
        self._counters = (_Counter(shared), _Counter(local))
        self._retry_shared_at = 0.0
        self._items = {name: parse(value) for name, value in limits.items() if value}
        self._free = free
        self._cap = cap

    def take(self, checks: list[tuple[str, str]]) -> float:
        counted = [(self._items[name], name, key) for name, key in checks if name in self._items]
        return self._counting(lambda counter: _take(counter.limiter, counted))

    def sign_in_wait(self, source: str) -> float:
        """Seconds before the next sign-in attempt from ``source`` may go; 0 now."""
        key = f"posrefund/signin-wait/{source}"

        def wait(counter: _Counter) -> float:
            if counter.storage.get(key) <= 0:
                return 0.0
            return max(1.0, counter.storage.get_expiry(key) - time.time())

        return self._counting(wait)

    def sign_in_attempt(self, source: str) -> None:
        """Count an attempt as it starts (so concurrent ones count too); past the free ones, the next waits."""

        def attempt(counter: _Counter) -> None:
            tries = counter.storage.incr(f"posrefund/signin-tries/{source}", _FORGET_TRIES_AFTER)
            if tries >= self._free:
                counter.storage.incr(f"posrefund/signin-wait/{source}", min(self._cap, 2 ** (tries - self._free)))

        self._counting(attempt)

    def sign_in_succeeded(self, source: str) -> None:
        def forget(counter: _Counter) -> None:
            counter.storage.clear(f"posrefund/signin-tries/{source}")
            counter.storage.clear(f"posrefund/signin-wait/{source}")

        self._counting(forget)

    def _counting(self, work: Callable[[_Counter], _T]) -> _T:
        """``work`` on the shared store; on this process's own count while the store cannot be reached."""
        shared, local = self._counters
        if shared is not local and time.monotonic() >= self._retry_shared_at:
            try:
                return work(shared)
            except StorageError as error:
                self._retry_shared_at = time.monotonic() + _RETRY_SHARED_AFTER
                log.warning(
                    "rate_limits.shared_store_unreachable",
                    error=type(error.storage_error).__name__,
                    counting="in this process",
                    retry_in_seconds=_RETRY_SHARED_AFTER,
                )
        return work(local)


class _Counter:
    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        self.limiter = MovingWindowRateLimiter(storage)


def _take(limiter: MovingWindowRateLimiter, counted: list[tuple[RateLimitItem, str, str]]) -> float:
    for item, name, key in counted:
        if not limiter.test(item, "posrefund", name, key):
            reset_at = limiter.get_window_stats(item, "posrefund", name, key).reset_time
            return max(1.0, reset_at - time.time())
    for item, name, key in counted:
        limiter.hit(item, "posrefund", name, key)
    return 0.0


def _storage_at(uri: str) -> Storage:
    """The store ``uri`` names; a network store's errors come as ``StorageError``, and a store that does not
    answer within a second counts as unreachable rather than holding the request."""
    if uri.startswith("memory://"):
        return MemoryStorage()
    timeouts = {"socket_connect_timeout": _STORE_TIMEOUT, "socket_timeout": _STORE_TIMEOUT}
    return cast(Storage, storage_from_string(uri, wrap_exceptions=True, **timeouts))


_FORGET_TRIES_AFTER = 3600  # seconds without an attempt after which an address starts afresh
_RETRY_SHARED_AFTER = 5.0  # seconds on this process's own count before the shared store is tried again
_STORE_TIMEOUT = 1.0  # seconds
