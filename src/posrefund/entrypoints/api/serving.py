"""How the API is served (``posrefund serve``): uvicorn with bounds on slow clients, and worker processes
that never outlive the process that started them.

Slow clients: uvicorn closes an idle keep-alive connection (``timeout_keep_alive``) and answers 503 beyond
``limit_concurrency`` connections, but it has no deadline for a request's headers: a connection that sends
nothing, or half a request line and then a byte now and then, is held forever, and enough of them fill the
connection cap. ``HeaderDeadlineH11`` closes a connection whose next request's headers have not arrived
within ``POSREFUND_SERVER__HEADER_TIMEOUT_SECONDS`` of it opening or of its previous answer.

Worker processes: with ``--workers N`` uvicorn's supervisor spawns the workers; if the supervisor is killed
(SIGKILL, OOM killer) they would keep the port and serve on unsupervised, and a restart would fail on the
busy port. Each worker asks the kernel for SIGTERM when its parent dies (``prctl(PR_SET_PDEATHSIG)``), and
a watchdog thread checks the parent where prctl is not available.
"""

from __future__ import annotations

import asyncio
import ctypes
import multiprocessing
import os
import signal
import sys
import threading
import time
from typing import Any

from fastapi import FastAPI
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from posrefund.config import Settings

_PR_SET_PDEATHSIG = 1
_header_timeout: list[float] = []  # read once per process from the settings


def header_timeout() -> float:
    if not _header_timeout:
        _header_timeout.append(Settings().server.header_timeout_seconds)
    return _header_timeout[0]


class _HeaderDeadline:
    """A deadline for each request's headers (see the module), for either of uvicorn's HTTP/1.1 protocols:
    mixed in before the protocol class, whose ``cycle`` is replaced once a request's headers are complete."""

    _deadline: asyncio.TimerHandle | None = None
    cycle: Any
    transport: asyncio.Transport
    loop: asyncio.AbstractEventLoop

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)  # type: ignore[misc]
        self._arm(None)

    def on_response_complete(self) -> None:
        answered = self.cycle
        super().on_response_complete()  # type: ignore[misc]
        # A pipelined request may already have started (a new cycle): its own answer arms the next deadline.
        if self.cycle is answered and not self.transport.is_closing():
            self._arm(answered)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
        super().connection_lost(exc)  # type: ignore[misc]

    def _arm(self, waiting_after: Any) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
        self._deadline = self.loop.call_later(header_timeout(), self._headers_overdue, waiting_after)

    def _headers_overdue(self, waiting_after: Any) -> None:
        """No new request has started since the deadline was set: close (nothing is lost, nothing was asked)."""
        if self.cycle is waiting_after and not self.transport.is_closing():
            self.transport.close()


class HeaderDeadlineHttpTools(_HeaderDeadline, HttpToolsProtocol):
    """uvicorn's fast (llhttp) protocol with the header deadline: the one served when httptools is there."""


class HeaderDeadlineH11(_HeaderDeadline, H11Protocol):
    """uvicorn's pure-Python protocol with the header deadline, where httptools cannot be installed."""


def _protocol() -> str:
    """httptools parses a request several times faster than h11 (the refund path's throughput shows it)."""
    try:
        import httptools  # noqa: F401
    except ImportError:
        return "posrefund.entrypoints.api.serving:HeaderDeadlineH11"
    return "posrefund.entrypoints.api.serving:HeaderDeadlineHttpTools"


def die_with_parent() -> None:
    """Make this worker process end when the process that spawned it ends, however that one ended."""
    parent = multiprocessing.parent_process()
    parent_pid = parent.pid if parent is not None and parent.pid is not None else os.getppid()
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    else:
        threading.Thread(target=_watch_parent, args=(parent_pid,), name="parent-watchdog", daemon=True).start()
    if os.getppid() != parent_pid:  # the parent died before the kernel was asked: nobody will signal us
        os.kill(os.getpid(), signal.SIGTERM)


def _watch_parent(parent_pid: int) -> None:
    while os.getppid() == parent_pid:
        time.sleep(1.0)
    os.kill(os.getpid(), signal.SIGTERM)


def build_worker_app() -> FastAPI:
    """The app of one ``serve --workers N`` process: bound to its parent's life, then built from the
    environment like any other."""
    from posrefund.entrypoints.api.factory import build_app

    die_with_parent()
    return build_app()


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """The options every ``posrefund serve`` passes uvicorn, in one process or several."""
    return {
        "http": _protocol(),
        "timeout_keep_alive": settings.server.keep_alive_seconds,
        "limit_concurrency": settings.server.max_connections,
        "timeout_graceful_shutdown": settings.server.keep_alive_seconds + 5,
        "access_log": False,
        "log_level": "warning",
    }
