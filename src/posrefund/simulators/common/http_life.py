"""The life of an HTTP simulator: its server thread and its scheduler, started and stopped together."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Self

from posrefund.simulators.common.scheduler import Scheduler


class HttpSimulatorLife:
    """Mixed into the wallet simulators; they call ``_init_life`` and provide ``_make_handler``."""

    def _init_life(self, name: str, port: int) -> None:
        self._name = name
        self._port = port
        self._scheduler = Scheduler(name)
        self._stopping = threading.Event()  # set on stop: releases requests held by no_answer_after_accept
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def _make_handler(self) -> type[BaseHTTPRequestHandler]:
        raise NotImplementedError

    def start(self) -> str:
        """Bind 127.0.0.1 on the given port (0: any free one), serve in a thread, return the base URL."""
        if self._server is not None:
            return self.base_url
        server = ThreadingHTTPServer(("127.0.0.1", self._port), self._make_handler())
        server.daemon_threads = False  # so server_close() joins every request thread: nothing outlives stop()
        self._server = server
        self._stopping.clear()
        self._scheduler = Scheduler(self._name)  # a fresh one: a stopped simulator may be started again
        self._scheduler.start()
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name=f"{self._name}-sim", daemon=True
        )
        self._thread.start()
        return self.base_url

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._scheduler.stop()
        self._server, self._thread = None, None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("simulator not started")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"
