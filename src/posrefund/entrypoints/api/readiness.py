"""Whether this node may take requests (``/readyz``): the database answers, its schema is at the newest
migration, and the evidence store can be written and read back.

Each check runs on its own small thread pool under a deadline, so a database that hangs (rather than
refusing) makes the probe answer 503 in ``timeout`` seconds instead of holding the load balancer's probe or
piling up threads. No error text reaches the answer (a driver's message can name hosts and users): the
answer says which check failed, the log says why."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import anyio
import structlog

from posrefund.adapters.db.migrate import head_revisions
from posrefund.adapters.db.operations import SqlOperations
from posrefund.ports import EvidenceStore

log = structlog.get_logger("posrefund.ready")
# Written and read back by each probe: content-addressed, so it is one small file (object) forever, in a
# folder of its own (merchants' ids are ``mch_…``).
PROBE = b"posrefund readiness probe\n"
PROBE_OWNER = "_readiness"
OK, FAILED, NOT_CHECKED = "ok", "failed", "not_checked"
T = TypeVar("T")


@dataclass
class Verdict:
    """``checks``: each check's ``ok``, ``failed`` or ``not_checked``; ``code`` names the first failure."""

    checks: dict[str, str] = field(default_factory=dict)
    code: str = ""
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def ready(self) -> bool:
        return not self.code

    def fail(self, check: str, code: str, **params: Any) -> None:
        self.checks[check] = FAILED
        if not self.code:
            self.code, self.params = code, params


class Readiness:
    def __init__(self, operations: SqlOperations, store: EvidenceStore, timeout: float = 2.0) -> None:
        self.operations = operations
        self.store = store
        self.timeout = timeout
        self._threads = anyio.CapacityLimiter(4)  # probes stuck on a hung database hold these, never more

    async def verdict(self) -> Verdict:
        verdict = Verdict()
        revisions = await self._attempt("database", self.operations.schema_revisions)
        if revisions is None:
            verdict.fail("database", "ready.database_unreachable")
            verdict.checks["schema"] = NOT_CHECKED
        else:
            verdict.checks["database"] = OK
            head = head_revisions()
            if revisions == head:
                verdict.checks["schema"] = OK
            else:
                current, expected = ",".join(sorted(revisions)) or "-", ",".join(sorted(head))
                verdict.fail("schema", "ready.schema_not_at_head", current=current, head=expected)
        if await self._attempt("evidence", self._evidence_round_trip):
            verdict.checks["evidence"] = OK
        else:
            verdict.fail("evidence", "ready.evidence_unreachable")
        verdict.params["checks"] = verdict.checks
        return verdict

    def _evidence_round_trip(self) -> bool:
        return self.store.get(PROBE_OWNER, self.store.put(PROBE_OWNER, PROBE)) == PROBE

    async def _attempt(self, check: str, probe: Callable[[], T]) -> T | None:
        """The probe's answer, or None when it raised or ran out of time (logged, without its text in the answer)."""
        try:
            with anyio.fail_after(self.timeout):
                return await anyio.to_thread.run_sync(probe, limiter=self._threads, abandon_on_cancel=True)
        except TimeoutError:
            log.warning("ready.check_timed_out", check=check, seconds=self.timeout)
        except Exception as exc:
            log.warning("ready.check_failed", check=check, error=type(exc).__name__, detail=str(exc)[:300])
        return None
