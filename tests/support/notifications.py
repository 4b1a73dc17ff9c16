"""Test doubles at the edge for notifications: a local HTTP gateway (SMS / WeChat provider) that counts
arrivals, drops repeats of a message id as a real provider would, and can answer 5xx or hang on cue."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from posrefund.adapters.notifiers.http_gateway import HttpGateway

SMS_PAYLOAD = {"mobile": "to", "content": "text", "out_id": "message_id", "sign_name": "=测试商户"}


@dataclass
class Arrival:
    message_id: str
    body: dict[str, Any]
    headers: dict[str, str]


@dataclass
class GatewayServer:
    """``script``: answers for the next requests in turn — ``"500"``, ``"400"``, ``"hang"`` (sleeps past the
    client's timeout) — then 200. ``delivered`` holds each message id once: the provider's de-duplication."""

    script: list[str] = field(default_factory=list)
    arrivals: list[Arrival] = field(default_factory=list)
    delivered: dict[str, Arrival] = field(default_factory=dict)
    hang_seconds: float = 1.5
    url: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def handle(self, headers: dict[str, str], raw: bytes) -> tuple[int, dict[str, Any]]:
        body = json.loads(raw)
        mid = headers.get("idempotency-key", "")
        with self.lock:
            self.arrivals.append(Arrival(mid, body, headers))
            step = self.script.pop(0) if self.script else "200"
        if step == "hang":
            time.sleep(self.hang_seconds)
            return 200, {"code": "OK", "data": {"msgid": f"late-{mid}"}}
        if step != "200":
            return int(step), {"code": "ERR"}
        with self.lock:
            first = mid not in self.delivered
            if first:
                self.delivered[mid] = Arrival(mid, body, headers)
        return 200, {"code": "OK", "data": {"msgid": f"P-{mid}", "duplicate": not first}}

    def texts(self) -> list[str]:
        return [str(a.body.get("content", "")) for a in self.delivered.values()]


@contextmanager
def gateway_server(**kw: Any) -> Iterator[GatewayServer]:
    state = GatewayServer(**kw)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("content-length", 0)))
            status, doc = state.handle({k.lower(): v for k, v in self.headers.items()}, raw)
            out = json.dumps(doc).encode()
            try:
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)
            except OSError:
                pass  # the client gave up (timeout test)

        def log_message(self, *_args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/sms/send"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def sms_gateway(server: GatewayServer, timeout: float = 0.5) -> HttpGateway:
    return HttpGateway(
        name="test-sms",
        url=server.url,
        payload=SMS_PAYLOAD,
        credential="sekret",
        response_id="data.msgid",
        timeout=timeout,
    )
