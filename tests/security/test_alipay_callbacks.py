"""Alipay's refund notifications through the real API, with Alipay configured from the channels file (public-key
and certificate mode): a genuine notification the simulator sent is answered ``success`` (plain text) and moves
the case once; a forged, tampered, other-app, other-seller one is 401 ``callback.rejected`` and changes nothing;
card-number-looking digits inside a genuine signed notification are not refused by the card-data guard; a genuine
notification stating another amount sends the case to a person."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qsl, urlencode

import pytest
from starlette.testclient import TestClient

from posrefund import bootstrap
from posrefund.config import Settings
from posrefund.domain.pii import find_card_data
from posrefund.domain.refund import RefundStatus
from posrefund.entrypoints.api.app import create_app
from posrefund.service import execution, refunds
from posrefund.service.deps import Deps
from posrefund.service.execution import Router
from posrefund.service.refunds import RefundRequest
from posrefund.simulators.alipay.crypto import rsa2_sign, sign_content
from posrefund.simulators.alipay.server import AlipayKeys, AlipaySimulator
from tests.conftest import FixedClock, World
from tests.integration.test_alipay_config import write_channels_file
from tests.support.helpers import new_sale

PATH = "/v1/callbacks/alipay"
FORM = {"content-type": "application/x-www-form-urlencoded; charset=utf-8"}
SELLER = "2088101106499364"  # the simulator's seller


class Capture(BaseHTTPRequestHandler):
    """The payment's notify_url: keeps what the simulator sends, so the test can replay and alter it."""

    got: ClassVar[list[bytes]] = []

    def do_POST(self) -> None:
        Capture.got.append(self.rfile.read(int(self.headers.get("content-length", 0))))
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"success")

    def log_message(self, *_a: Any) -> None:
        pass


@dataclass
class Notified:
    sim: AlipaySimulator
    router: Router
    case_id: str
    amount_fen: int
    body: bytes  # the genuine notification, as the simulator sent it

    def params(self) -> dict[str, str]:
        return dict(parse_qsl(self.body.decode("ascii"), keep_blank_values=True))

    def signed(self, **changes: str) -> bytes:
        """The notification with ``changes``, signed afresh with Alipay's own key: genuine in every way."""
        params = {k: v for k, v in self.params().items() if k not in ("sign", "sign_type")} | changes
        params["sign"] = rsa2_sign(self.sim.keys.alipay_private_key, sign_content(params, ("sign", "sign_type")))
        params["sign_type"] = "RSA2"
        return urlencode(params).encode("ascii")


def luhn_valid(prefix: str, length: int) -> str:
    """A number of ``length`` digits starting with ``prefix`` whose last digit makes the Luhn check pass."""
    body = prefix.ljust(length - 1, "7")
    total = sum(d if i % 2 else (d * 2 - 9 if d * 2 > 9 else d * 2) for i, d in enumerate(map(int, reversed(body))))
    return body + str((10 - total % 10) % 10)


def notified(
    tmp_path: Path, settings: Settings, deps: Deps, world: World, mode: str, trade_no: str | None = None
) -> Iterator[Notified]:
    Capture.got = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Capture)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    keys = AlipayKeys.generate(certificate_mode=mode == "certificate")
    with AlipaySimulator(keys=keys, min_gap_same_trade=0, max_clock_skew=None, notify_delay=0.0) as sim:
        path = write_channels_file(tmp_path, sim, mode, extra=f'seller_id = "{SELLER}"\n')
        router = bootstrap.build_router(settings.model_copy(update={"channels_file": path}), deps)
        sale = new_sale(deps, world.a, channel="alipay", payer_masked="159****5620")
        url = f"http://127.0.0.1:{server.server_address[1]}{PATH}"
        sim.add_payment(sale.order_no, sale.amount_fen, sale.paid_at, trade_no, url)
        case = refunds.request_refund(deps, world.a.actors["cashier"], RefundRequest(sale.id, 2_500, "other"))
        sim.set_fault(case.refund_no, "processing_then_success", times=10**6)  # only the notification finishes it
        execution.advance(deps, router, world.a.id, case.id)
        sim.complete(case.refund_no)
        deadline = time.monotonic() + 10
        while not Capture.got and time.monotonic() < deadline:
            time.sleep(0.05)
        yield Notified(sim, router, case.id, 2_500, Capture.got[0])
    server.shutdown()


@pytest.fixture(params=["public_key", "certificate"])
def note(
    request: pytest.FixtureRequest, tmp_path: Path, settings: Settings, deps: Deps, world: World
) -> Iterator[Notified]:
    yield from notified(tmp_path, settings, deps, world, request.param)


def status(deps: Deps, world: World, case_id: str) -> RefundStatus:
    return refunds.get_case(deps, world.a.actors["auditor"], case_id).case.status


def post(deps: Deps, backend: str, router: Router, body: bytes) -> Any:
    with TestClient(create_app(deps, inline=backend == "sqlite", router=router)) as client:
        return client.post(PATH, content=body, headers=FORM)


def confirmed(deps: Deps, world: World, note: Notified, clock: FixedClock) -> RefundStatus:
    """The worker's look the notification asked for: due at once, it asks Alipay about this refund."""
    case = refunds.get_case(deps, world.a.actors["auditor"], note.case_id).case
    assert case.next_check_at == clock.now()  # due now, not after the next back-off step
    execution.advance(deps, note.router, world.a.id, note.case_id)
    return status(deps, world, note.case_id)


def test_a_genuine_notification_is_answered_success_once_and_again_and_confirmed_by_a_query(
    note: Notified, deps: Deps, world: World, backend: str, clock: FixedClock
) -> None:
    assert status(deps, world, note.case_id) is RefundStatus.PROCESSING
    for _ in range(3):  # Alipay resends until it reads "success"; every copy is acknowledged
        r = post(deps, backend, note.router, note.body)
        assert (r.status_code, r.text, r.headers["content-type"].split(";")[0]) == (200, "success", "text/plain")
    # The notification states the trade's refunded total, not this refund's amount: it settles nothing alone.
    assert status(deps, world, note.case_id) is RefundStatus.PROCESSING
    assert confirmed(deps, world, note, clock) is RefundStatus.SUCCEEDED
    events = [e["action"] for e in refunds.case_events(deps, world.a.actors["auditor"], note.case_id)]
    assert events.count("refund.succeeded") == 1


def test_a_notification_signed_with_another_key_is_refused(
    note: Notified, deps: Deps, world: World, backend: str
) -> None:
    params = note.params()
    params["sign"] = rsa2_sign(AlipayKeys.generate().alipay_private_key, sign_content(params, ("sign", "sign_type")))
    r = post(deps, backend, note.router, urlencode(params).encode("ascii"))
    assert (r.status_code, r.json()["code"]) == (401, "callback.rejected")
    assert status(deps, world, note.case_id) is RefundStatus.PROCESSING


def test_a_notification_with_a_changed_amount_and_the_old_sign_is_refused(
    note: Notified, deps: Deps, world: World, backend: str
) -> None:
    params = note.params()
    params["refund_fee"] = "0.01"
    r = post(deps, backend, note.router, urlencode(params).encode("ascii"))
    assert (r.status_code, r.json()["code"]) == (401, "callback.rejected")
    assert status(deps, world, note.case_id) is RefundStatus.PROCESSING


@pytest.mark.parametrize("field,value", [("app_id", "2021000000000999"), ("seller_id", "2088000000000001")])
def test_a_genuine_notification_for_another_app_or_seller_is_refused(
    note: Notified, deps: Deps, world: World, backend: str, field: str, value: str
) -> None:
    r = post(deps, backend, note.router, note.signed(**{field: value}))
    assert (r.status_code, r.json()["code"]) == (401, "callback.rejected")
    assert status(deps, world, note.case_id) is RefundStatus.PROCESSING


def test_a_notification_stating_a_trade_total_above_this_refund_is_no_alarm(
    note: Notified, deps: Deps, world: World, backend: str, clock: FixedClock
) -> None:
    """A second partial refund of a trade: Alipay's notification states what the trade has had refunded in all
    (here 25.00 + an earlier 40.00); that is no mismatch, and the query confirms this refund's own amount."""
    r = post(deps, backend, note.router, note.signed(refund_fee="65.00"))
    assert (r.status_code, r.text) == (200, "success")
    assert confirmed(deps, world, note, clock) is RefundStatus.SUCCEEDED


def test_a_genuine_notification_of_another_amount_goes_to_a_person(
    note: Notified, deps: Deps, world: World, backend: str
) -> None:
    r = post(deps, backend, note.router, note.signed(refund_fee="0.01"))
    assert (r.status_code, r.text) == (200, "success")
    assert status(deps, world, note.case_id) is RefundStatus.ABNORMAL


def test_card_number_digits_in_a_genuine_notification_are_not_refused(
    tmp_path: Path, settings: Settings, deps: Deps, world: World, backend: str, clock: FixedClock
) -> None:
    """The trade number happens to be a Luhn-valid 19-digit run: the card-data guard must let Alipay's signed
    notification through (it is checked by its signature; the route keeps only the verified outcome)."""
    trade_no = luhn_valid("622202", 19)
    assert find_card_data(trade_no) == "pan_detected"
    for note in notified(tmp_path, settings, deps, world, "public_key", trade_no=trade_no):
        assert note.params()["trade_no"] == trade_no
        r = post(deps, backend, note.router, note.body)
        assert (r.status_code, r.text) == (200, "success")
        assert confirmed(deps, world, note, clock) is RefundStatus.SUCCEEDED
