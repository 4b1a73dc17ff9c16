"""Callbacks with the channels' real signatures, through the API: a tampered byte, a wrong signature and a
stale replay are answered 401 and change nothing; five deliveries of one notification move the case once."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest
from starlette.testclient import TestClient

from posrefund.adapters.channels.alipay.client import AlipayCallbackVerifier
from posrefund.adapters.channels.wechatpay.client import WeChatPayCallbackVerifier
from posrefund.demo import channels as demo_channels
from posrefund.domain.refund import RefundStatus
from posrefund.entrypoints.api.app import create_app
from posrefund.ports import CallbackVerifier
from posrefund.service import execution, refunds
from posrefund.service.deps import Deps
from posrefund.service.refunds import RefundRequest
from tests.conftest import World
from tests.support.helpers import new_sale


class Capture(BaseHTTPRequestHandler):
    """Stands in for our callback URL so the test can replay, tamper with and duplicate the real thing."""

    got: ClassVar[list[tuple[str, dict[str, str], bytes]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        Capture.got.append((self.path, {k.lower(): v for k, v in self.headers.items()}, body))
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"success" if "alipay" in self.path else b'{"code":"SUCCESS"}')

    def log_message(self, *_a: Any) -> None:
        pass


@pytest.fixture
def capture_sims() -> Iterator[demo_channels.Simulated]:
    Capture.got = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Capture)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    sims = demo_channels.start(f"http://127.0.0.1:{server.server_address[1]}", timeout=1.0)
    yield sims
    sims.close()
    server.shutdown()


@pytest.mark.parametrize("channel,path", [("wechat", "/v1/callbacks/wechatpay"), ("alipay", "/v1/callbacks/alipay")])
def test_real_signatures(
    channel: str, path: str, deps: Deps, world: World, backend: str, capture_sims: demo_channels.Simulated
) -> None:
    router = capture_sims.router
    sale = new_sale(deps, world.a, channel=channel, payer_masked="138****0000")
    case = refunds.request_refund(deps, world.a.actors["cashier"], RefundRequest(sale.id, 2_500, "other"))
    sim = capture_sims.simulators[channel]
    sim.set_fault(case.refund_no, "processing_then_success", times=10**6)  # only the callback may finish it
    execution.sweep(deps, router)
    assert refunds.get_case(deps, world.a.actors["auditor"], case.id).case.status is RefundStatus.PROCESSING
    sim.complete(case.refund_no)
    deadline = time.monotonic() + 10
    while not any(p == path for p, _h, _b in Capture.got) and time.monotonic() < deadline:
        time.sleep(0.05)
    _p, headers, body = next(c for c in Capture.got if c[0] == path)
    app = create_app(deps, inline=backend == "sqlite", router=router)
    auditor = world.a.actors["auditor"]

    def status() -> RefundStatus:
        return refunds.get_case(deps, auditor, case.id).case.status

    with TestClient(app) as client:
        flipped = bytearray(body)
        flipped[len(flipped) // 2] ^= 0x01  # one bit of one byte
        sig_key = "wechatpay-signature" if channel == "wechat" else None
        forged_headers = dict(headers)
        forged_body = body
        if sig_key:
            forged_headers[sig_key] = forged_headers[sig_key][::-1]
        else:
            forged_body = body.replace(b"sign=", b"sign=AAAA", 1)
        for h, b in ((headers, bytes(flipped)), (forged_headers, forged_body)):
            r = client.post(path, content=b, headers=h)
            assert r.status_code == 401 and r.json()["code"] == "callback.rejected"
        assert status() is RefundStatus.PROCESSING
        for _ in range(5):
            r = client.post(path, content=body, headers=headers)
            assert r.status_code == 200
        if channel == "alipay":
            # Alipay's trade notification states the trade's refunded total, not this refund's amount: it asks
            # for a query at once, which the worker makes.
            assert status() is RefundStatus.PROCESSING
            execution.sweep(deps, router)
        assert status() is RefundStatus.SUCCEEDED
    events = [e["action"] for e in refunds.case_events(deps, auditor, case.id)]
    assert events.count("refund.succeeded") == 1
    # The same genuine notification replayed later than the channel allows is refused as stale, changing nothing.
    later = {"wechat": timedelta(minutes=10), "alipay": timedelta(hours=1)}[channel]

    def clock() -> datetime:
        return datetime.now(UTC) + later

    stale: dict[str, CallbackVerifier] = {}
    if channel == "wechat":
        stale["wechat"] = WeChatPayCallbackVerifier(
            platform_public_key=sim.platform_public_key_pem,
            platform_public_key_id=sim.platform_public_key_id,
            apiv3_key=sim.apiv3_key,
            mchid=sim.mchid,
            clock=clock,
        )
    else:
        stale["alipay"] = AlipayCallbackVerifier(
            alipay_public_key=sim.alipay_public_key_pem, app_id=sim.app_id, clock=clock
        )
    late_app = create_app(deps, inline=backend == "sqlite", router=replace(router, verifiers=stale))
    with TestClient(late_app) as client:
        r = client.post(path, content=body, headers=headers)
        assert r.status_code == 401 and r.json()["code"] == "callback.rejected"
    assert [e["action"] for e in refunds.case_events(deps, auditor, case.id)] == events
