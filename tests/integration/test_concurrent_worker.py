"""The concurrent worker: many channel calls in flight, each channel held to its limit, a graceful stop that
leaves unstarted cases to others, and configuration picked up without a restart. A slow fake channel at the
edge, the real database in the middle, the worker loop itself (``entrypoints.worker.run``)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from posrefund.adapters.calendar_cn import ChineseCalendar
from posrefund.config import Settings
from posrefund.domain.channel import RefundOrder
from posrefund.domain.refund import RefundCase, RefundStatus
from posrefund.entrypoints import worker
from posrefund.entrypoints.cli.main import app as cli
from posrefund.service import calendar, refunds
from posrefund.service.deps import Deps
from posrefund.service.execution import ChannelRules, Router
from posrefund.service.refunds import RefundRequest
from tests.conftest import FixedClock, World
from tests.support.fakes import FakeChannel
from tests.support.helpers import new_sale

S = RefundStatus


class SlowChannel(FakeChannel):
    """A channel that takes ``seconds`` per call and remembers how many calls it had at once."""

    def __init__(self, seconds: float) -> None:
        super().__init__(on_call=self._slow)
        self.seconds = seconds
        self.lock = threading.Lock()
        self.now_in = 0
        self.peak = 0

    def _slow(self, _kind: str, _order: RefundOrder) -> None:
        with self.lock:
            self.now_in += 1
            self.peak = max(self.peak, self.now_in)
        time.sleep(self.seconds)
        with self.lock:
            self.now_in -= 1


def approved_cases(deps: Deps, world: World, n: int) -> list[RefundCase]:
    """``n`` approved refunds, one sale each (channels want a gap between refunds of one order)."""
    cashier = world.a.actors["cashier"]
    out = []
    for _ in range(n):
        sale = new_sale(deps, world.a)
        case = refunds.request_refund(
            deps, cashier, RefundRequest(sale_id=sale.id, amount_fen=1_000, reason="customer_cancelled")
        )
        assert case.status is S.APPROVED
        out.append(case)
    return out


def statuses(deps: Deps, world: World, cases: list[RefundCase]) -> list[RefundStatus]:
    auditor = world.a.actors["auditor"]
    return [refunds.get_case(deps, auditor, c.id).case.status for c in cases]


def wait_for(condition: object, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


@contextmanager
def running(deps: Deps, router: Router, **options: object) -> Iterator[threading.Event]:
    """The worker loop in a thread, polling every 50 ms, until the block ends."""
    stop = threading.Event()
    opts = worker.WorkerOptions(poll_seconds=0.05, **options)  # type: ignore[arg-type]
    thread = threading.Thread(target=worker.run, args=(deps, router, stop), kwargs={"options": opts})
    thread.start()
    try:
        yield stop
    finally:
        stop.set()
        if opts:
            opts.wake.set()
        thread.join(30)
        assert not thread.is_alive()


def test_twenty_slow_calls_run_side_by_side(deps: Deps, world: World) -> None:
    cases = approved_cases(deps, world, 20)
    slow = SlowChannel(0.5)
    router = Router(channels={"wechat": slow}, is_workday=lambda _d: True)
    started = time.monotonic()
    worker.run(deps, router, threading.Event(), once=True)  # 16 threads by default
    elapsed = time.monotonic() - started
    assert statuses(deps, world, cases) == [S.SUCCEEDED] * 20
    assert len(slow.calls) == 20
    # Most of the 16 threads are in a call at once (each claim before its call is a write of its own,
    # so on a busy machine the last ones may start after the first ones ended).
    assert slow.peak >= 12, slow.peak
    assert elapsed < 5.0, elapsed  # one at a time this is 10 s


def test_a_channels_max_in_flight_is_never_exceeded(deps: Deps, world: World) -> None:
    cases = approved_cases(deps, world, 12)
    slow = SlowChannel(0.5)
    router = Router(channels={"wechat": slow}, is_workday=lambda _d: True)
    router.rules["wechat"] = replace(router.rules["wechat"], max_in_flight=3)
    with running(deps, router, threads=16):
        wait_for(lambda: statuses(deps, world, cases) == [S.SUCCEEDED] * 12)
    assert slow.peak == 3
    assert len(slow.calls) == 12


def test_stopping_finishes_calls_under_way_and_leaves_the_rest_due(deps: Deps, world: World, clock: FixedClock) -> None:
    cases = approved_cases(deps, world, 10)
    slow = SlowChannel(0.5)
    router = Router(channels={"wechat": slow}, is_workday=lambda _d: True)
    with running(deps, router, threads=2) as stop:
        wait_for(lambda: slow.now_in == 2, seconds=3)
        asked = time.monotonic()
        stop.set()
    took = time.monotonic() - asked
    assert took < 2.0, took  # the two calls under way, not the eight others
    done = [s for s in statuses(deps, world, cases) if s is S.SUCCEEDED]
    assert len(done) == len(slow.calls) == 2
    with deps.uow(readonly=True) as uow:
        due = {case_id for _m, case_id in uow.refunds.due(clock.now(), 100)}
    assert due == {c.id for c, s in zip(cases, statuses(deps, world, cases), strict=True) if s is S.APPROVED}
    assert len(due) == 8  # due at once for the next worker, nothing claimed and left hanging
    worker.run(deps, router, threading.Event(), once=True)
    assert statuses(deps, world, cases) == [S.SUCCEEDED] * 10


def test_a_calendar_override_is_picked_up_without_a_restart(deps: Deps, world: World, clock: FixedClock) -> None:
    cal = ChineseCalendar()
    router = Router(channels={"wechat": FakeChannel()}, is_workday=cal.is_workday, overrides=cal.overrides)
    saturday = date(2026, 11, 14)
    assert not router.is_workday(saturday)
    with running(deps, router):
        time.sleep(0.2)
        calendar.put_override(deps, world.provider, saturday, True, "moved weekend")
        wait_for(lambda: router.is_workday(saturday), seconds=5)
        clock.advance(seconds=1)
        calendar.put_override(deps, world.provider, saturday, False, "moved back")
        wait_for(lambda: not router.is_workday(saturday), seconds=5)


def test_a_changed_channels_file_is_used_from_the_next_round(deps: Deps, world: World, tmp_path: Path) -> None:
    channels_file = tmp_path / "channels.toml"
    channels_file.write_text("[wechat]\nmax_in_flight = 1\n", encoding="utf-8")
    slow = SlowChannel(0.5)

    def build() -> Router:
        return worker.with_file_rules(Router(channels={"wechat": slow}, is_workday=lambda _d: True), channels_file)

    watch = worker.ChannelsFileWatch(channels_file, build)
    first = approved_cases(deps, world, 4)
    with running(deps, build(), threads=8, channels=watch):
        wait_for(lambda: statuses(deps, world, first) == [S.SUCCEEDED] * 4)
        assert slow.peak == 1
        channels_file.write_text("[wechat]\nmax_in_flight = 4\n", encoding="utf-8")
        time.sleep(0.3)  # the next rounds read it
        second = approved_cases(deps, world, 8)
        wait_for(lambda: statuses(deps, world, second) == [S.SUCCEEDED] * 8)
    assert slow.peak == 4


def test_limits_in_the_channels_file_override_the_defaults_of_that_channel_only() -> None:
    rules = worker.rules_from(
        {"wechat": {"max_in_flight": 5, "calls_per_second": 20, "mchid": "1900000001"}, "title": "x"},
        {"wechat": ChannelRules(max_calls_per_second=150), "card": ChannelRules(max_calls_per_second=50)},
    )
    assert (rules["wechat"].max_in_flight, rules["wechat"].max_calls_per_second) == (5, 20)
    assert rules["card"] == ChannelRules(max_calls_per_second=50)


SIGNALLED = """
import os, signal, sys, threading, time
from posrefund.entrypoints import worker
from posrefund.entrypoints.cli.main import app as cli
stop = threading.Event()
worker.install_signal_handlers(stop)
hold = threading.Thread(target=time.sleep, args=(60,))  # a call that would not end soon
hold.start()
print("ready", flush=True)
stop.wait(30)
print("stopping", flush=True)
hold.join()
"""


def test_a_second_sigterm_ends_the_worker_at_once() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", SIGNALLED],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
        proc.send_signal(signal.SIGTERM)
        lines = iter(proc.stdout.readline, "")
        assert "stopping" in (line.strip() for line in lines)  # the first one: finish what is under way
        assert proc.poll() is None
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=5) == 128 + signal.SIGTERM  # the second one: now
    finally:
        proc.kill()
        proc.wait()


def test_the_worker_command_takes_threads_and_poll(
    deps: Deps, world: World, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in (
        ("DATABASE_URL", settings.database_url),
        ("SECRET_KEY", settings.secret_key),
        ("PII_KEY", settings.pii_key),
        ("DATA_DIR", str(settings.data_dir)),
        ("LOG_FILE", str(settings.log_file)),
    ):
        monkeypatch.setenv(f"POSREFUND_{name}", value)
    cases = approved_cases(deps, world, 3)
    result = CliRunner().invoke(cli, ["worker", "--once", "--threads", "4", "--poll", "0.1"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("worker stopped after ")  # case steps and notification steps
    # No channels file: no adapter for WeChat Pay, so each case goes to a person, once.
    assert statuses(deps, world, cases) == [S.ABNORMAL] * 3
