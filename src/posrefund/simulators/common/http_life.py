"""The life of an HTTP simulator (its server thread and its scheduler, started and stopped together) and the
request handler the wallet simulators share: side doors under ``/__sim__/``, everything else to the simulator's
own ``_answer_http``, whose answer may also be to hold the connection or to drop it."""

from __future__ import annotations

import json
import threading
from abc import abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.message import Message
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from posrefund.simulators.common.faults import owed_latency
from posrefund.simulators.common.life import Life
from posrefund.simulators.common.scheduler import Scheduler
from posrefund.simulators.common.side_door import PREFIX, Routes, answer_side_door, json_object

ANSWER, HANG, DROP = "answer", "hang", "drop"


@dataclass(frozen=True)
class HttpAnswer:
    """What to send back: ``status``, ``body`` and ``headers``; or, with ``action`` HANG, hold the connection
    until the client gives up (the request was executed, the answer never comes), or with DROP close it now."""

    status: int
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    action: str = ANSWER


BARE_500 = HttpAnswer(
    500, b"<html><body><h1>500 Internal Server Error</h1></body></html>", {"Content-Type": "text/html"}
)


def json_answer(status: int, value: Any, content_type: str = "application/json; charset=utf-8") -> HttpAnswer:
    return HttpAnswer(status, json.dumps(value, ensure_ascii=False).encode(), {"Content-Type": content_type})


class HttpSimulatorLife(Life):
    """The base of the wallet simulators; they call ``_init_life`` and provide ``_answer_http`` and
    ``_side_routes``."""

    server_version = "Simulator"

    def _init_life(self, name: str, port: int, hang_seconds: float) -> None:
        self._name = name
        self._port = port
        self._hang_seconds = hang_seconds
        self._scheduler = Scheduler(name)
        self._stopping = threading.Event()  # set on stop: releases requests held by no_answer_after_accept
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @abstractmethod
    def _answer_http(self, method: str, raw_path: str, headers: Message, body: bytes) -> HttpAnswer:
        """The answer to a request of the simulated protocol (anything outside ``/__sim__/``)."""

    @abstractmethod
    def _side_routes(self) -> Routes:
        """The simulator's side doors, by (method, name under ``/__sim__/``)."""

    def _hold(self) -> None:
        """Keep a request unanswered until ``hang_seconds`` pass or the simulator stops."""
        self._stopping.wait(self._hang_seconds)

    def start(self) -> str:
        """Bind 127.0.0.1 on the given port (0: any free one), serve in a thread, return the base URL."""
        if self._server is not None:
            return self.base_url
        server = ThreadingHTTPServer(("127.0.0.1", self._port), _handler_for(self))
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

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("simulator not started")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"


def _handler_for(sim: HttpSimulatorLife) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = sim.server_version
        timeout = 10  # a client that connects and never speaks cannot pin a thread forever

        def do_GET(self) -> None:
            self._serve("GET")

        def do_POST(self) -> None:
            self._serve("POST")

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: tests and the demo read the ledger, not the access log."""

        def _serve(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            path = urlsplit(self.path).path
            if path.startswith(PREFIX):
                answer = json_answer(*answer_side_door(sim._side_routes(), method, path, json_object(body)))
            else:
                answer = sim._answer_http(method, self.path, self.headers, body)
                late = owed_latency()  # a ``latency`` fault: executed already, answered late
                if late > 0:
                    sim._stopping.wait(late)
            if answer.action == HANG:
                sim._hold()
            if answer.action != ANSWER:
                self.close_connection = True
                return
            self.send_response(answer.status, HTTPStatus(answer.status).phrase)
            for name, value in answer.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(answer.body)))
            self.end_headers()
            self.wfile.write(answer.body)

    return Handler
