"""Prometheus metrics shared by the API and the worker: names, help texts and labels are defined here once.

Each process keeps its own registry (no global one: tests build many apps in one process, and the API and the
worker export different things). The API serves its registry at ``/metrics``; the worker, a separate
process, serves its own on ``--metrics-port`` (``prometheus_client.start_http_server``) rather than sharing
files through prometheus_client's multiprocess mode. docs/operations.md lists every metric.

Labels never carry an id: routes are their templates (``/v1/refunds/{refund_id}``), channels and states
are short fixed lists, so a series count stays in the tens whatever the traffic."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from wsgiref.simple_server import WSGIServer

import structlog
from prometheus_client import CollectorRegistry, Counter, Histogram, disable_created_metrics, start_http_server
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from posrefund.adapters.db.operations import SqlOperations
from posrefund.ports import ChannelCall

log = structlog.get_logger("posrefund.metrics")
# No ``*_created`` series beside every counter and histogram: a timestamp per label set nobody graphs, which
# doubled the series count. Process-wide in prometheus_client; every registry here wants it.
disable_created_metrics()  # type: ignore[no-untyped-call]

# Channel calls take from a few milliseconds (a simulator) to the adapters' timeouts (10–30 s).
CALL_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
# A reconciliation run: from a second (one day's small file) to many minutes (a month of a big merchant).
RUN_BUCKETS = (0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0)


class ChannelCallMetrics:
    """The worker's channel calls: latency per channel and call, outcomes per channel, and one log line per
    call naming the case and the API request that opened it. ``observe`` is the router's ``observe``."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.server: WSGIServer | None = None  # the worker's own /metrics, when served
        self.seconds = Histogram(
            "posrefund_channel_call_duration_seconds",
            "Time one call to a payment channel took (submit or query), as the worker waited for it.",
            ["channel", "call"],
            registry=registry,
            buckets=CALL_BUCKETS,
        )
        self.calls = Counter(
            "posrefund_channel_calls",
            "Calls the worker made to a payment channel, by what the channel answered (accepted, succeeded, "
            "declined, not_found, unknown, not_sent, …; error when the adapter raised).",
            ["channel", "call", "outcome"],
            registry=registry,
        )

    def observe(self, call: ChannelCall) -> None:
        self.seconds.labels(call.channel, call.call).observe(call.seconds)
        self.calls.labels(call.channel, call.call, call.outcome).inc()
        log.info(
            "worker.channel_call",
            case_id=call.case_id,
            request_id=call.request_id,
            channel=call.channel,
            method=call.method,
            call=call.call,
            outcome=call.outcome,
            code=call.code,
            ms=round(call.seconds * 1000, 2),
        )


class DatabaseGauges(Collector):
    """Read from the database at each scrape: the refunds still open by state and channel, how many cases
    are due for the worker and how long the oldest has waited. The same numbers on every node that
    exports them (aggregate with ``max``). A scrape whose query failed reports ``posrefund_database_up 0``."""

    def __init__(self, operations: Callable[[], SqlOperations], now: Callable[[], datetime]) -> None:
        self.operations = operations  # built at the first scrape: an app is also built without a database
        self.now = now

    def collect(self) -> Iterable[Metric]:
        up = GaugeMetricFamily("posrefund_database_up", "1 when the scrape's queries answered, else 0.")
        try:
            families = list(self._read())
        except Exception as exc:
            log.warning("metrics.database_failed", error=type(exc).__name__)
            up.add_metric([], 0)
            return [up]
        up.add_metric([], 1)
        return [up, *families]

    def _read(self) -> Iterable[Metric]:
        refunds = GaugeMetricFamily(
            "posrefund_refunds_open",
            "Refunds not yet in a terminal state, by state and channel (terminal ones are not counted).",
            labels=["state", "channel"],
        )
        operations = self.operations()
        for state, channel, count in operations.open_refunds():
            refunds.add_metric([state, channel], count)
        now = self.now()
        queue = operations.queue(now)
        depth = GaugeMetricFamily(
            "posrefund_queue_due", "Refund cases due for the worker now (approved, or in flight and due for a look)."
        )
        depth.add_metric([], queue.due)
        age = GaugeMetricFamily(
            "posrefund_queue_oldest_due_seconds", "How long the longest-waiting due case has been due (0: none)."
        )
        waited = (now - queue.oldest_due_since).total_seconds() if queue.oldest_due_since is not None else 0.0
        age.add_metric([], max(0.0, waited))
        return [refunds, depth, age]


def reconciliation_runs(registry: CollectorRegistry) -> Histogram:
    return Histogram(
        "posrefund_reconciliation_run_duration_seconds",
        "Time one reconciliation run took, from the request to its result, by settlement source.",
        ["source"],
        registry=registry,
        buckets=RUN_BUCKETS,
    )


def worker_metrics(port: int | None, host: str = "127.0.0.1") -> ChannelCallMetrics:
    """The worker's channel-call metrics and log lines; with a ``port``, also served at ``host:port/metrics``
    (loopback by default: open it wider only behind the network's own rules)."""
    registry = CollectorRegistry()
    calls = ChannelCallMetrics(registry)
    if port is not None:
        calls.server, _thread = start_http_server(port, addr=host, registry=registry)
        log.info("worker.metrics_serving", host=host, port=port)
    return calls
