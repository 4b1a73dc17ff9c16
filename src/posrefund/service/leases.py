"""How long a worker may hold a refund while it talks to the channel, and the heartbeat that keeps it.

A lease shorter than the slowest call lets a second worker claim the case mid-call; so the lease is the
adapter's longest call (its timeouts × its resends) plus a margin, and while the call runs a heartbeat extends
it every third of a lease — under the claim's fence, so a worker whose case was taken over learns it lost."""

from __future__ import annotations

import logging
import threading
from datetime import timedelta
from types import TracebackType

from posrefund.ports import PaymentChannel
from posrefund.service.deps import Deps

log = logging.getLogger(__name__)
DEFAULT_CALL_SECONDS = 10.0  # an adapter that says nothing of its timeouts


def longest_call(channel: PaymentChannel | None) -> timedelta:
    """The longest one call to ``channel`` can take: what the adapter says (``longest_call_seconds``), else its
    ``timeout`` × its ``tries`` (one try when it resends nothing), else a default."""
    said = getattr(channel, "longest_call_seconds", None)
    if isinstance(said, int | float):
        return timedelta(seconds=float(said))
    timeout = getattr(channel, "timeout", None)
    if not isinstance(timeout, int | float):
        return timedelta(seconds=DEFAULT_CALL_SECONDS)
    tries = getattr(channel, "tries", 1)
    return timedelta(seconds=float(timeout) * (tries if isinstance(tries, int) and tries > 0 else 1))


class Heartbeat:
    """Renews one claim's lease every ``lease / 3`` (wall-clock) until the call returns; ``lost`` when the case's
    fence moved on (another worker took it over): that worker's answer will then be refused."""

    def __init__(self, deps: Deps, case_id: str, fence: int, lease: timedelta, enabled: bool = True) -> None:
        self._deps, self._case_id, self._fence, self._lease = deps, case_id, fence, lease
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"lease-{case_id}", daemon=True) if enabled else None
        self.lost = False
        self.renewals = 0

    def __enter__(self) -> Heartbeat:
        if self._thread is not None:
            self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        """Stopped and joined before the answer is recorded, so no renewal can land after it."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _run(self) -> None:
        interval = max(self._lease.total_seconds() / 3, 0.01)
        while not self._stop.wait(interval):
            try:
                if not self.renew():
                    return
            except Exception:  # a database hiccup: the lease still has two thirds left, try again next beat
                log.warning("lease renewal for %s failed; trying again", self._case_id, exc_info=True)

    def renew(self) -> bool:
        """One renewal; False (and ``lost``) when the fence is no longer this claim's."""
        until = self._deps.clock.now() + self._lease
        with self._deps.uow() as uow:
            if not uow.refunds.renew_lease(self._case_id, self._fence, until):
                self.lost = True
                return False
            uow.attempts.renew_attempt(self._case_id, self._fence, until)
            uow.commit()
        self.renewals += 1
        return True
