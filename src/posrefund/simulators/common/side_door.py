"""The simulators' side doors: unsigned ``/__sim__/…`` JSON routes beside the protocol, for tests, the demo and an
operator to set a simulator up (payments, faults) and look inside (ledger, notifications). Not part of any
channel's protocol: the real counterparts have nothing like them."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from posrefund.simulators.common.faults import Fault, fault_from_json

PREFIX = "/__sim__/"
Route = Callable[[dict[str, Any]], tuple[int, Any]]
Routes = Mapping[tuple[str, str], Route]


def answer_side_door(routes: Routes, method: str, path: str, payload: dict[str, Any]) -> tuple[int, Any]:
    """(status, JSON value) for ``method`` on ``/__sim__/<name>``; a malformed payload is a 400."""
    route = routes.get((method, path.removeprefix(PREFIX))) if path.startswith(PREFIX) else None
    if route is None:
        return 404, {"error": "no such side door"}
    try:
        return route(payload)
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        return 400, {"error": f"{type(e).__name__}: {e}"}


def json_object(body: bytes) -> dict[str, Any]:
    """A side door's payload: the body's JSON object, or an empty one (then the route finds its keys missing)."""
    try:
        payload = json.loads(body) if body else {}
    except ValueError:
        return {}
    return payload if isinstance(payload, dict) else {}


def fault_route(set_fault: Callable[[str, Fault], None], status: int = 200) -> Route:
    """``POST /__sim__/faults {refund_no, fault, applied?, code?, times?}``: the same on every simulator."""

    def route(payload: dict[str, Any]) -> tuple[int, Any]:
        set_fault(*fault_from_json(payload))
        return status, None if status == 204 else {"ok": True}

    return route


def make_side_server(routes: Routes, port: int) -> ThreadingHTTPServer:
    """A side door on its own port, for a simulator whose protocol is not HTTP. Bind 127.0.0.1:``port`` (0 = a
    free port); the caller runs ``serve_forever`` in a thread."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the simulator's own journal is the record."""

        def do_GET(self) -> None:
            self._send(*answer_side_door(routes, "GET", self.path, {}))

        def do_POST(self) -> None:
            size = int(self.headers.get("Content-Length") or 0)
            self._send(*answer_side_door(routes, "POST", self.path, json_object(self.rfile.read(size))))

        def _send(self, status: int, payload: Any) -> None:
            data = b"" if payload is None else json.dumps(payload, ensure_ascii=False).encode()
            self.send_response(status)
            if data:
                self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    return server


def wallet_routes(
    *,
    ledger: Callable[[], Any],
    notifications: Callable[[], Any],
    credentials: Callable[[], Any],
    add_payment: Route,
    complete: Callable[[str], None],
    set_fault: Callable[[str, Fault], None],
    supported_faults: Callable[[], list[str]],
) -> dict[tuple[str, str], Route]:
    """The side doors every wallet simulator has: ``GET ledger``, ``GET notifications``, ``GET credentials``,
    ``GET faults`` (the canonical faults it supports), ``POST payments``, ``POST faults``, ``POST complete
    {refund_no}``."""

    def complete_route(payload: dict[str, Any]) -> tuple[int, Any]:
        complete(str(payload["refund_no"]))
        return 200, {"ok": True}

    return {
        ("GET", "ledger"): lambda _: (200, ledger()),
        ("GET", "notifications"): lambda _: (200, notifications()),
        ("GET", "credentials"): lambda _: (200, credentials()),
        ("POST", "payments"): add_payment,
        ("GET", "faults"): lambda _: (200, {"supported": supported_faults()}),
        ("POST", "faults"): fault_route(set_fault),
        ("POST", "complete"): complete_route,
    }
