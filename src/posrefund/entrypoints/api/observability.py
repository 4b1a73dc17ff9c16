"""What the operations routes share (``routers/ops.py``): the app's metrics registry and its readiness
checks, and who may read ``/metrics``.

``/metrics`` is open without a token only to this host itself (a Prometheus agent beside the server), and
never to a request that came through a proxy (``Forwarded`` / ``X-Forwarded-For``): a proxy on the same
host would otherwise open it to everyone. With ``POSREFUND_METRICS_TOKEN`` set, a scrape from anywhere must
carry ``Authorization: Bearer <token>`` — and one without it is refused, from this host too."""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from functools import cached_property
from time import perf_counter

from fastapi import Request
from prometheus_client import CollectorRegistry, Histogram
from starlette.applications import Starlette

from posrefund.adapters.db.operations import SqlOperations
from posrefund.bootstrap import engine_of
from posrefund.entrypoints.api.readiness import Readiness
from posrefund.entrypoints.metrics import DatabaseGauges, reconciliation_runs
from posrefund.service.deps import Deps

LOOPBACK = frozenset({"127.0.0.1", "::1"})
_FORWARDED = (b"forwarded", b"x-forwarded-for", b"x-real-ip")


class Operations:
    """One per app (never the process-wide default registry: tests build many apps in one process). The
    database is first asked at the first probe or scrape: building the app (scripts/api-docs) needs none."""

    def __init__(self, deps: Deps, metrics_token: str = "") -> None:
        self._deps = deps
        self.registry = CollectorRegistry()
        self.latency = Histogram(
            "posrefund_http_request_duration_seconds",
            "Time from a request's arrival to the end of its answer, by method, route template and status class.",
            ["method", "route", "status_class"],
            registry=self.registry,
        )
        self.reconciliation_runs = reconciliation_runs(self.registry)
        self.registry.register(DatabaseGauges(lambda: self.sql, self._now))
        self._token = metrics_token

    def _now(self) -> datetime:
        return self._deps.clock.now()

    @cached_property
    def sql(self) -> SqlOperations:
        return SqlOperations(engine_of(self._deps))

    @cached_property
    def readiness(self) -> Readiness:
        return Readiness(self.sql, self._deps.evidence_store)

    def metrics_refusal(self, request: Request) -> str | None:
        """Why this request may not read the metrics (an error code), or None."""
        if self._token:
            scheme, _, offered = request.headers.get("authorization", "").partition(" ")
            good = scheme.lower() == "bearer" and hmac.compare_digest(offered.strip().encode(), self._token.encode())
            return None if good else "metrics.token_required"
        host = request.client.host if request.client else ""
        proxied = any(key in _FORWARDED for key, _ in request.scope["headers"])
        return None if host in LOOPBACK and not proxied else "metrics.forbidden"


def operations_of(app: Starlette) -> Operations:
    ops = app.state.ops
    assert isinstance(ops, Operations)
    return ops


@contextmanager
def timed_reconciliation(app: Starlette, source: str) -> Iterator[None]:
    """Around one reconciliation run (the API's or the console's): its duration, when it finished, into
    ``posrefund_reconciliation_run_duration_seconds`` (a refused or failed run is not a run)."""
    started = perf_counter()
    yield
    operations_of(app).reconciliation_runs.labels(source).observe(perf_counter() - started)
