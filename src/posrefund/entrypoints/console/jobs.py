"""Long reconciliation work (a settlement file import, a run) off the request: the page answers at once and
polls a progress fragment while a worker thread does the work through the service layer.

Jobs live in this process's memory (the console's app): enough to follow one's own work from the page; what
the job did is durable in the database and audited by the service, whatever happens to the job record.
A job is seen only by operators of the merchant that started it (another merchant's job id is 404).
The CSV exports need no job: ``entrypoints.csv_export`` reads their rows on Starlette's thread pool while
the file is sent."""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from posrefund.domain.errors import DomainError, Invalid, NotFound
from posrefund.domain.roles import Actor

log = logging.getLogger(__name__)
KEEP = 200  # the newest jobs kept in memory


@dataclass
class Job:
    id: str
    merchant_id: str
    user_id: str
    kind: str  # "import" | "run"
    total_lines: int = 0  # counted while the upload was saved: the denominator of the import's progress
    done_lines: int = 0
    state: str = "running"  # running | done | failed
    result: Any = None
    error: DomainError | None = None
    started: float = field(default_factory=time.monotonic)
    finished: float | None = None
    info: dict[str, Any] = field(default_factory=dict)

    def tick(self, lines: int) -> None:
        self.done_lines += lines

    @property
    def percent(self) -> int:
        if self.state == "done":
            return 100
        if not self.total_lines:
            return 0
        return min(99, self.done_lines * 100 // self.total_lines)

    @property
    def seconds(self) -> int:
        return int((self.finished or time.monotonic()) - self.started)


class Jobs:
    def __init__(self, keep: int = KEEP) -> None:
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._lock = threading.Lock()
        self._keep = keep

    def start(
        self,
        actor: Actor,
        kind: str,
        work: Callable[[Job], Any],
        *,
        total_lines: int = 0,
        cleanup: Callable[[], None] | None = None,
        **info: Any,
    ) -> Job:
        job = Job(
            id=secrets.token_urlsafe(12),
            merchant_id=actor.merchant_id or "",
            user_id=actor.id,
            kind=kind,
            total_lines=total_lines,
            info=info,
        )
        with self._lock:
            self._jobs[job.id] = job
            while len(self._jobs) > self._keep:
                self._jobs.popitem(last=False)

        def target() -> None:
            try:
                job.result = work(job)
                job.state = "done"
            except DomainError as err:
                job.error, job.state = err, "failed"
            except Exception:  # never a silent death: logged, shown as a failure the operator can retry
                log.exception("console job %s (%s) failed", job.id, kind)
                job.error, job.state = Invalid("error.unknown"), "failed"
            finally:
                job.finished = time.monotonic()
                if cleanup:
                    cleanup()

        threading.Thread(target=target, name=f"console-{kind}-{job.id}", daemon=True).start()
        return job

    def get(self, actor: Actor, job_id: str) -> Job:
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None or job.merchant_id != (actor.merchant_id or ""):
            raise NotFound("recon.job_not_found")
        return job
