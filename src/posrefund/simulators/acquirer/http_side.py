"""A tiny side HTTP endpoint for the acquirer simulator, so a demo or an operator can look inside and set it up.

Not part of the acquirer's protocol (that is ISO 8583 over TCP); it is the simulator's control panel:

- ``GET /__sim__/ledger`` · ``GET /__sim__/payments`` · ``GET /__sim__/messages`` → JSON lists
- ``POST /__sim__/payments`` ``{rrn, auth_code, voucher_no, batch_no, amount_fen, paid_at, terminal_no,
  merchant_no?, settled?}`` → 201
- ``POST /__sim__/faults`` ``{refund_no, fault, times?, apply_effect?}`` → 204
- ``POST /__sim__/settle`` ``{terminal_no?}`` → 200 with the batches now open
"""

from __future__ import annotations

import json
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from posrefund.simulators.acquirer.server import AcquirerSimulator

PREFIX = "/__sim__/"


def make_side_server(sim: AcquirerSimulator, port: int) -> ThreadingHTTPServer:
    """Bind 127.0.0.1:``port`` (0 = a free port); the caller runs ``serve_forever`` in a thread."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the simulator's messages() journal is the record."""

        def do_GET(self) -> None:
            views = {"ledger": sim.ledger, "payments": sim.payments, "messages": sim.messages}
            view = views.get(self.path.removeprefix(PREFIX)) if self.path.startswith(PREFIX) else None
            if view is None:
                self._send(404, {"error": "not found"})
                return
            self._send(200, view())

        def do_POST(self) -> None:
            try:
                size = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(size) or b"{}")
                if not isinstance(body, dict):
                    raise ValueError("the body must be a JSON object")
                name = self.path.removeprefix(PREFIX) if self.path.startswith(PREFIX) else ""
                if name == "payments":
                    sim.add_payment(
                        rrn=str(body["rrn"]),
                        auth_code=str(body["auth_code"]),
                        voucher_no=str(body["voucher_no"]),
                        batch_no=str(body["batch_no"]),
                        amount_fen=int(body["amount_fen"]),
                        paid_at=datetime.fromisoformat(str(body["paid_at"])),
                        terminal_no=str(body["terminal_no"]),
                        merchant_no=str(body.get("merchant_no", "")),
                        settled=bool(body.get("settled", False)),
                    )
                    self._send(201, {"ok": True})
                elif name == "faults":
                    sim.inject_fault(
                        str(body["refund_no"]),
                        str(body["fault"]),
                        times=int(body.get("times", 1)),
                        apply_effect=bool(body.get("apply_effect", True)),
                    )
                    self._send(204, None)
                elif name == "settle":
                    terminal = body.get("terminal_no")
                    self._send(200, sim.settle(str(terminal) if terminal is not None else None))
                else:
                    self._send(404, {"error": "not found"})
            except (KeyError, ValueError, TypeError) as exc:
                self._send(400, {"error": f"{type(exc).__name__}: {exc}"})

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
