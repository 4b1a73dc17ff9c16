"""Crash safety: the worker is killed with SIGKILL at each step of the flow, 20 times per step —
before the submit, after the channel accepted but before we recorded it, during the query, and during
the callback. After restart every refund is paid at most once and ends ``succeeded``."""

from __future__ import annotations

import multiprocessing
import signal
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest
from sqlalchemy import text, update

from posrefund.adapters.db import tables
from posrefund.bootstrap import engine_of
from posrefund.config import Settings
from posrefund.domain.refund import RefundStatus
from posrefund.ports import RefundQuery
from posrefund.service import refunds, sales
from posrefund.service.deps import Deps
from posrefund.service.refunds import RefundRequest
from posrefund.simulators.wechatpay.server import WeChatPaySimulator
from tests.conftest import World
from tests.support.helpers import new_sale

KILLS = 20
CTX = multiprocessing.get_context("forkserver")
CTX.set_forkserver_preload(["tests.integration.crash_harness"])


class Capture(BaseHTTPRequestHandler):
    """Stands in for our callback endpoint: keeps the signed notifications to replay them into a child."""

    store: ClassVar[list[tuple[dict[str, str], bytes]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        Capture.store.append(({k.lower(): v for k, v in self.headers.items()}, body))
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"code":"SUCCESS"}')

    def log_message(self, *_args: Any) -> None:
        pass


@pytest.fixture
def sim() -> Iterator[tuple[WeChatPaySimulator, str]]:
    Capture.store = []
    capture = ThreadingHTTPServer(("127.0.0.1", 0), Capture)
    threading.Thread(target=capture.serve_forever, daemon=True).start()
    notify = f"http://127.0.0.1:{capture.server_address[1]}/v1/callbacks/wechatpay"
    with WeChatPaySimulator(notify_url=notify, accept_unknown_orders=True, processing_queries=10**6) as s:
        yield s, notify
    capture.shutdown()


def conf_of(settings: Settings, s: WeChatPaySimulator, callbacks: list[Any] | None = None) -> dict[str, Any]:
    return {
        "db_url": settings.database_url,
        "secret_key": settings.secret_key,
        "pii_key": settings.pii_key,
        "data_dir": str(settings.data_dir),
        "callbacks": callbacks or [],
        "wechat": {
            "mchid": s.mchid,
            "merchant_private_key": s.merchant_private_key_pem,
            "serial": s.merchant_serial_no,
            "platform_public_key": s.platform_public_key_pem,
            "platform_public_key_id": s.platform_public_key_id,
            "apiv3_key": s.apiv3_key,
            "base_url": s.base_url,
        },
    }


def child(conf: dict[str, Any], failpoints: str, mode: str = "sweep") -> int:
    from tests.integration import crash_harness

    p = CTX.Process(target=crash_harness.run, args=(conf, failpoints, mode))
    p.start()
    p.join(timeout=60)
    assert p.exitcode is not None
    return p.exitcode


def make_cases(deps: Deps, world: World, n: int = KILLS) -> list[refunds.RefundCase]:
    out = []
    for _ in range(n):
        sale = new_sale(deps, world.a, channel="wechat", amount_fen=10_000)
        out.append(refunds.request_refund(deps, world.a.actors["cashier"], RefundRequest(sale.id, 4_000, "other")))
    return out


def make_all_due(deps: Deps) -> None:
    """Leases and back-off are real time in the children: move every in-flight case's next look to now."""
    with engine_of(deps).begin() as c:
        c.execute(
            update(tables.refunds)
            .where(tables.refunds.c.status == "processing")
            .values(next_check_at=datetime(2000, 1, 1, tzinfo=UTC))
        )


def finish(deps: Deps, conf: dict[str, Any], s: WeChatPaySimulator, cases: list[refunds.RefundCase]) -> None:
    """Restart a clean worker: whatever was never sent is sent now (once), then the channel finishes."""
    make_all_due(deps)
    assert child(conf, "") == 0
    known = {e["refund_no"] for e in s.ledger()}
    for c in cases:
        if c.refund_no in known:
            s.complete(c.refund_no)
    for _ in range(5):
        make_all_due(deps)
        assert child(conf, "") == 0


def check(deps: Deps, world: World, s: WeChatPaySimulator, cases: list[refunds.RefundCase]) -> None:
    ledger = s.ledger()
    numbers = [e["refund_no"] for e in ledger]
    assert len(numbers) == len(set(numbers))
    ours = {c.refund_no for c in cases}
    assert set(numbers) == ours
    views, _ = refunds.list_cases(deps, world.a.actors["auditor"], RefundQuery(limit=500))
    status = {v.case.refund_no: v.case.status for v in views if v.case.refund_no in ours}
    assert set(status.values()) == {RefundStatus.SUCCEEDED}
    for c in cases:
        sale = sales.get_sale(deps, world.a.actors["cashier"], c.sale_id)
        assert (sale.refunded_fen, sale.reserved_fen) == (4_000, 0)


@pytest.mark.parametrize("failpoint", ["advance.before_call", "advance.after_submit"])
def test_killed_around_the_submit(
    failpoint: str, deps: Deps, world: World, settings: Settings, sim: tuple[WeChatPaySimulator, str]
) -> None:
    s, _ = sim
    cases = make_cases(deps, world)
    conf = conf_of(settings, s)
    for c in cases:
        s.set_fault(c.refund_no, "processing_then_success", times=10**6)
    kills = [child(conf, f"{failpoint}=kill:1") for _ in range(KILLS)]
    assert kills == [-signal.SIGKILL] * KILLS
    executed = len(s.ledger())
    assert executed == (0 if failpoint == "advance.before_call" else KILLS)
    finish(deps, conf, s, cases)
    check(deps, world, s, cases)


def test_killed_during_the_query(
    deps: Deps, world: World, settings: Settings, sim: tuple[WeChatPaySimulator, str]
) -> None:
    s, _ = sim
    cases = make_cases(deps, world)
    conf = conf_of(settings, s)
    assert child(conf, "") == 0  # submitted: all PROCESSING
    assert len(s.ledger()) == KILLS
    for c in cases:
        s.complete(c.refund_no)  # the channel has paid; our next query will learn it
    make_all_due(deps)
    kills = [child(conf, "advance.after_query=kill:1") for _ in range(KILLS)]
    assert kills == [-signal.SIGKILL] * KILLS
    finish(deps, conf, s, cases)
    check(deps, world, s, cases)


@pytest.mark.parametrize("failpoint", ["callback.before_apply", "record.before_commit"])
def test_killed_during_the_callback(
    failpoint: str, deps: Deps, world: World, settings: Settings, sim: tuple[WeChatPaySimulator, str]
) -> None:
    s, _ = sim
    cases = make_cases(deps, world)
    assert child(conf_of(settings, s), "") == 0  # submitted: all PROCESSING
    for c in cases:
        s.complete(c.refund_no)  # → SUCCESS, notified to the capture server
    deadline = time.monotonic() + 20
    while len(Capture.store) < KILLS and time.monotonic() < deadline:
        time.sleep(0.05)
    notes = list(Capture.store)
    assert len(notes) == KILLS
    # Each child gets one notification and dies applying it; a clean child then gets all of them again.
    kills = [child(conf_of(settings, s, [note]), f"{failpoint}=kill:1", "callbacks") for note in notes]
    conf = conf_of(settings, s, notes)
    assert kills == [-signal.SIGKILL] * KILLS
    assert child(conf, "", "callbacks") == 0  # the channel resends: everything applied once
    check(deps, world, s, cases)
    events = 0
    with engine_of(deps).connect() as c:
        events = c.execute(text("SELECT count(*) FROM audit_events WHERE action = 'refund.succeeded'")).scalar_one()
    assert events == KILLS
