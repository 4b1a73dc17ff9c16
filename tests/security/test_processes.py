"""``posrefund serve --workers 2`` killed with SIGKILL takes its workers with it, and a new serve on the same
port answers."""

from __future__ import annotations

import signal
import time

import pytest

from posrefund.config import Settings
from tests.security.servers import alive, children_of, serve, stop, wait_healthy
from tests.support.ports import free_port


@pytest.mark.parametrize("backend", ["sqlite"])
def test_killed_supervisor_leaves_no_worker_and_a_restart_serves(settings: Settings) -> None:
    port = free_port()
    first = serve(settings, port, "--workers", "2")
    children: list[int] = []
    second = None
    try:
        wait_healthy(port)
        children = children_of(first.pid)
        assert len(children) >= 2  # the two workers (and multiprocessing's resource tracker)
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        deadline = time.monotonic() + 5
        while any(alive(pid) for pid in children) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert [pid for pid in children if alive(pid)] == []
        second = serve(settings, port)
        wait_healthy(port, within=60)
        assert second.poll() is None
    finally:
        stop(first.pid, *children)
        if second is not None:
            stop(second.pid)
            second.wait(10)
