"""How long a worker may hold a refund while it talks to the channel, and the heartbeat that keeps it.

A lease shorter than the slowest call lets a second worker claim the case mid-call; so the lease is the
adapter's longest call (its timeouts × its resends) plus a margin, and while the call runs a heartbeat extends
it every third of a lease — under the claim's fence, so a worker whose case was taken over learns it lost."""

from __future__ import annotations

import logging
import threading
import time
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
    """Keeps one claim's lease while its call runs: renewed every ``lease / 3`` (wall-clock) by the process's one
    lease keeper thread (a thread per call cost more than the call on a busy host); ``lost`` when the case's
    fence moved on (another worker took it over): that worker's answer will then be refused."""

    def __init__(self, deps: Deps, case_id: str, fence: int, lease: timedelta, enabled: bool = True) -> None:
        self._deps, self._case_id, self._fence, self._lease = deps, case_id, fence, lease
        self.interval = max(lease.total_seconds() / 3, 0.01)
        self.due = 0.0  # monotonic time of the next renewal
        self.active = enabled
        self.lock = threading.Lock()  # held by a renewal; taken on exit so none lands after the answer
        self.lost = False
        self.renewals = 0

    def __enter__(self) -> Heartbeat:
        if self.active:
            self.due = time.monotonic() + self.interval
            KEEPER.add(self)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        """Stopped before the answer is recorded: a renewal under way finishes first, none starts after."""
        if not self.active:
            return
        with self.lock:
            self.active = False
        KEEPER.discard(self)

    def beat(self) -> None:
        """One renewal if still held; a database hiccup is logged and tried again at the next beat."""
        with self.lock:
            if not self.active:
                return
            try:
                self.renew()
            except Exception:
                log.warning("lease renewal for %s failed; trying again", self._case_id, exc_info=True)
        self.due = time.monotonic() + self.interval

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


class LeaseKeeper:
    """The one thread of a process that renews the leases of the calls running in it."""

    def __init__(self) -> None:
        self._held: set[Heartbeat] = set()
        self._changed = threading.Condition()
        self._thread: threading.Thread | None = None

    def add(self, beat: Heartbeat) -> None:
        with self._changed:
            self._held.add(beat)
            if self._thread is None or not self._thread.is_alive():  # first use, or a forked child
                self._thread = threading.Thread(target=self._run, name="lease-keeper", daemon=True)
                self._thread.start()
            self._changed.notify()

    def discard(self, beat: Heartbeat) -> None:
        with self._changed:
            self._held.discard(beat)

    def _run(self) -> None:
        while True:
            with self._changed:
                now = time.monotonic()
                due = [b for b in self._held if b.due <= now and not b.lost]
                if not due:
                    nearest = min((b.due for b in self._held if not b.lost), default=now + 1.0)
                    self._changed.wait(max(nearest - now, 0.005))
                    continue
            for beat in due:
                beat.beat()


KEEPER = LeaseKeeper()
