"""A local WeChat Pay APIv3 for refunds, true to the protocol, with fault injection.

It checks the merchant's request signatures (401 SIGN_ERROR otherwise), signs every ``/v3`` answer with the
platform key (``Wechatpay-*`` headers), applies the refund rules in ``_wechatpay_book`` and POSTs refund
notifications (AEAD_AES_256_GCM with the APIv3 key, platform-signed) to ``notify_url``, retrying on failure.

Side doors for tests and the demo (unsigned, under ``/__sim__/``): ``GET ledger``, ``GET notifications``,
``GET credentials``, ``POST payments``, ``POST faults``, ``POST complete``.

Run it: ``python -m posrefund.simulators.wechatpay.server --port 8802 [--keys-dir DIR]``.
"""

from __future__ import annotations

import argparse
import collections
import functools
import itertools
import json
import signal
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from posrefund.simulators.common.http_life import HttpSimulatorLife
from posrefund.simulators.wechatpay.crypto import (
    SCHEMA,
    WeChatPayKeys,
    b64_sign,
    b64_verify,
    decrypt_sensitive,
    encrypt_resource,
    new_nonce,
    parse_authorization,
    platform_message,
    request_message,
)
from posrefund.simulators.wechatpay.ledger import (
    DEFAULT_RATE_FAULTS,
    FAULTS,
    SHANGHAI,
    FaultSpec,
    Refund,
    RefundBook,
    rfc3339,
    utc_now,
)

__all__ = ["FAULTS", "WeChatPayKeys", "WeChatPaySimulator", "main"]

REFUNDS_PATH = "/v3/refund/domestic/refunds"
# WeChat Pay resends a notification that was not acknowledged with a 2xx on this schedule (24 h 4 m in all).
REAL_RETRY_SCHEDULE = (15, 15, 30, 180, 600, 1200, 1800, 1800, 1800, 3600, 10800, 10800, 10800, 21600, 21600)
DEMO_RETRY_DELAYS = tuple(seconds / 100 for seconds in REAL_RETRY_SCHEDULE)  # same shape, 100 times faster
EVENTS = {
    "SUCCESS": ("REFUND.SUCCESS", "退款成功"),
    "ABNORMAL": ("REFUND.ABNORMAL", "退款异常"),
    "CLOSED": ("REFUND.CLOSED", "退款关闭"),
}


@dataclass
class _Delivery:
    """One notification on its way: the same ``notice_id`` (and body) on every retry, signed afresh."""

    url: str
    notice_id: str
    refund_no: str
    event_type: str
    body: bytes
    kind: str  # genuine | duplicate | forged
    attempt: int = 0


class WeChatPaySimulator(HttpSimulatorLife):
    """WeChat Pay's refund API on ``127.0.0.1:<port>`` in a background thread; ``with`` starts and stops it.

    ``settle_after``: seconds after which a PROCESSING refund finishes on its own (``None``: only when queried
    or completed). ``processing_queries``: how many queries ``processing_then_success`` answers PROCESSING.
    ``notify_retry_delays``: seconds between notification retries (default: the real schedule / 100).
    ``clock``: business time (order age, create/success times); signatures use the wall clock, as WeChat does.
    ``max_qps``: signed requests per second above which the answer is 429 FREQUENCY_LIMITED (None: no limit).
    """

    def __init__(
        self,
        *,
        port: int = 0,
        keys: WeChatPayKeys | None = None,
        clock: Callable[[], datetime] = utc_now,
        settle_after: float | None = None,
        processing_queries: int = 2,
        notify_url: str = "",
        notify_retry_delays: Sequence[float] = DEMO_RETRY_DELAYS,
        notify_timeout: float = 2.0,
        hang_seconds: float = 5.0,
        min_gap_same_order: float = 0.0,
        accept_unknown_orders: bool = False,
        fault_rate: float = 0.0,
        rate_faults: Iterable[str] = DEFAULT_RATE_FAULTS,
        seed: int = 0,
        max_clock_skew: float = 300.0,
        max_qps: int | None = None,
    ) -> None:
        self._port = port
        self._keys = keys or WeChatPayKeys.generate()  # RSA 2048 for merchant and platform, made at start-up
        self._clock = clock
        self._settle_after = settle_after
        self._retry_delays = tuple(notify_retry_delays)
        self._notify_timeout = notify_timeout
        self._hang_seconds = hang_seconds
        self._max_skew = max_clock_skew
        self._max_qps = max_qps
        self._recent: collections.deque[float] = collections.deque()
        self._rate_lock = threading.Lock()
        self._init_life("wechatpay", port)
        self._deliveries: list[dict[str, Any]] = []
        self._deliveries_cv = threading.Condition()
        self._notice_seq = itertools.count(1)
        self.book = RefundBook(
            self._keys.mchid,
            clock,
            self._on_final,
            self._schedule_settle if settle_after is not None else None,
            processing_queries=processing_queries,
            min_gap_same_order=timedelta(seconds=min_gap_same_order),
            accept_unknown_orders=accept_unknown_orders,
            default_notify_url=notify_url,
            fault_rate=fault_rate,
            rate_faults=rate_faults,
            seed=seed,
        )

    # ---- life -------------------------------------------------------------------------------------------

    def _make_handler(self) -> type[BaseHTTPRequestHandler]:
        return _handler_for(self)

    @property
    def keys(self) -> WeChatPayKeys:
        return self._keys

    @property
    def mchid(self) -> str:
        return self._keys.mchid

    @property
    def merchant_private_key_pem(self) -> str:
        return self._keys.merchant_private_key_pem

    @property
    def merchant_public_key_pem(self) -> str:
        return self._keys.merchant_public_key_pem

    @property
    def merchant_serial_no(self) -> str:
        return self._keys.merchant_serial_no

    @property
    def platform_public_key_pem(self) -> str:
        return self._keys.platform_public_key_pem

    @property
    def platform_public_key_id(self) -> str:
        return self._keys.platform_public_key_id

    @property
    def apiv3_key(self) -> str:
        return self._keys.apiv3_key

    # ---- set-up and inspection ---------------------------------------------------------------------------

    def add_payment(
        self,
        out_trade_no: str,
        total_fen: int,
        paid_at: datetime | None = None,
        transaction_id: str | None = None,
        user_received_account: str = "支付用户零钱",
    ) -> str:
        """Register a paid order the platform knows; returns its ``transaction_id``."""
        return self.book.add_payment(out_trade_no, total_fen, paid_at, transaction_id, user_received_account)

    def set_fault(
        self, refund_no: str, fault: str, *, applied: bool | None = None, code: str = "", times: int | None = None
    ) -> None:
        """Plan a fault for one refund number (names in ``FAULTS``); several may be set for one number."""
        self.book.set_fault(refund_no, FaultSpec(fault, applied, code, times))

    def clear_faults(self) -> None:
        self.book.clear_faults()

    def complete(self, refund_no: str) -> None:
        """Let time pass for one refund: a PROCESSING refund reaches its final status (and is notified)."""
        self.book.complete(refund_no)

    def ledger(self) -> list[dict[str, Any]]:
        return self.book.ledger()

    def notifications(self) -> list[dict[str, Any]]:
        """Every notification delivery attempt: notice_id, refund_no, event_type, kind, attempt, status, error."""
        with self._deliveries_cv:
            return list(self._deliveries)

    def wait_notifications(self, count: int, timeout: float = 5.0) -> list[dict[str, Any]]:
        """Block until at least ``count`` delivery attempts were made (or the timeout passes)."""
        deadline = time.monotonic() + timeout
        with self._deliveries_cv:
            while len(self._deliveries) < count and (left := deadline - time.monotonic()) > 0:
                self._deliveries_cv.wait(left)
            return list(self._deliveries)

    # ---- notifications ----------------------------------------------------------------------------------

    def _schedule_settle(self, refund_no: str) -> None:
        assert self._settle_after is not None
        self._scheduler.after(self._settle_after, lambda: self.book.settle(refund_no))

    def _on_final(self, refund: Refund) -> None:
        """Called under the book's lock when a refund becomes final: build the notification, queue it."""
        if not refund.notify_url:
            return
        event_type, summary = EVENTS[refund.status]
        plain = json.dumps(self.book.notification_plain(refund), ensure_ascii=False).encode()
        now = self._clock()
        notice_id = f"EV-{now.astimezone(SHANGHAI):%Y%m%d%H%M%S}{next(self._notice_seq):08d}"
        body = {
            "id": notice_id,
            "create_time": rfc3339(now),
            "resource_type": "encrypt-resource",
            "event_type": event_type,
            "summary": summary,
            "resource": encrypt_resource(self._keys.apiv3_key, plain, "refund"),
        }
        raw = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
        kinds = ["genuine"]
        if "bad_signature_callback" in refund.faults:
            kinds.insert(0, "forged")
        if "duplicate_callback" in refund.faults:
            kinds.append("duplicate")
        for i, kind in enumerate(kinds):
            delivery = _Delivery(refund.notify_url, notice_id, refund.out_refund_no, event_type, raw, kind)
            self._scheduler.after(0.01 * i, functools.partial(self._deliver, delivery))

    def _deliver(self, d: _Delivery) -> None:
        timestamp, nonce = str(int(time.time())), new_nonce()
        # A forged notification is signed with a key that is not the platform's (here: the merchant's).
        signer = self._keys.merchant_private_key if d.kind == "forged" else self._keys.platform_private_key
        headers = {
            "Content-Type": "application/json",
            "Wechatpay-Timestamp": timestamp,
            "Wechatpay-Nonce": nonce,
            "Wechatpay-Signature": b64_sign(signer, platform_message(timestamp, nonce, d.body)),
            "Wechatpay-Serial": self._keys.platform_public_key_id,
            "Wechatpay-Signature-Type": SCHEMA,
            "User-Agent": "Mozilla/4.0",
        }
        status, error = 0, ""
        if urlsplit(d.url).scheme not in ("http", "https"):
            error = "notify_url is not http(s)"
        else:
            request = urllib.request.Request(d.url, data=d.body, headers=headers, method="POST")  # noqa: S310
            try:
                with urllib.request.urlopen(request, timeout=self._notify_timeout) as response:  # noqa: S310
                    status = response.status
            except urllib.error.HTTPError as e:
                status = e.code
            except OSError as e:
                error = f"{type(e).__name__}: {e}"
        with self._deliveries_cv:
            self._deliveries.append(
                {
                    "notice_id": d.notice_id,
                    "refund_no": d.refund_no,
                    "event_type": d.event_type,
                    "kind": d.kind,
                    "attempt": d.attempt,
                    "status": status,
                    "error": error,
                }
            )
            self._deliveries_cv.notify_all()
        acknowledged = 200 <= status < 300
        if not acknowledged and d.kind != "forged" and d.attempt < len(self._retry_delays):
            delay = self._retry_delays[d.attempt]
            d.attempt += 1
            self._scheduler.after(delay, lambda: self._deliver(d))

    # ---- HTTP -------------------------------------------------------------------------------------------

    def _authenticate(self, method: str, raw_path: str, headers: Any, body: bytes) -> tuple[int, dict[str, Any]] | None:
        """Check the merchant's ``Authorization``; None when genuine, else the error answer."""
        fields = parse_authorization(headers.get("Authorization", ""))
        if fields is None:
            return 401, {"code": "SIGN_ERROR", "message": "Http头Authorization值格式错误"}
        if fields["mchid"] != self._keys.mchid:
            return 404, {"code": "MCH_NOT_EXISTS", "message": "商户号不存在"}
        if fields["serial_no"] != self._keys.merchant_serial_no:
            return 401, {"code": "SIGN_ERROR", "message": "商户证书序列号有误"}
        try:
            skew = abs(time.time() - int(fields["timestamp"]))
        except ValueError:
            skew = float("inf")
        if skew > self._max_skew:
            return 401, {"code": "SIGN_ERROR", "message": "Http头Authorization中的timestamp已过期"}
        public = self._keys.merchant_private_key.public_key()
        # The client signs the path as it wrote it; HTTP may have percent-encoded it on the way.
        for path in dict.fromkeys((raw_path, unquote(raw_path))):
            message = request_message(method, path, fields["timestamp"], fields["nonce_str"], body)
            if b64_verify(public, message, fields["signature"]):
                return None
        return 401, {"code": "SIGN_ERROR", "message": "签名错误"}

    def _check_sensitive(self, headers: Any, payload: Any) -> dict[str, Any] | None:
        """Encrypted fields must decrypt with the platform key that ``Wechatpay-Serial`` names. The plaintext
        (a bank card number, a name) is only checked, never kept."""
        fields = [payload.get(k) for k in ("bank_account", "real_name")] if isinstance(payload, dict) else []
        fields = [f for f in fields if f]
        if not fields:
            return None
        if headers.get("Wechatpay-Serial") != self._keys.platform_public_key_id:
            return {"code": "PARAM_ERROR", "message": "Wechatpay-Serial 与加密所用的微信支付公钥不符"}
        if any(not isinstance(f, str) or decrypt_sensitive(self._keys.platform_private_key, f) is None for f in fields):
            return {"code": "PARAM_ERROR", "message": "敏感信息解密失败"}
        return None

    def _over_rate(self) -> bool:
        """A sliding one-second window over accepted requests."""
        if self._max_qps is None:
            return False
        now = time.monotonic()
        with self._rate_lock:
            while self._recent and now - self._recent[0] >= 1.0:
                self._recent.popleft()
            if len(self._recent) >= self._max_qps:
                return True
            self._recent.append(now)
            return False

    def _signed_headers(self, body: bytes) -> dict[str, str]:
        timestamp, nonce = str(int(time.time())), new_nonce()
        return {
            "Content-Type": "application/json; charset=utf-8",
            "Wechatpay-Timestamp": timestamp,
            "Wechatpay-Nonce": nonce,
            "Wechatpay-Signature": b64_sign(self._keys.platform_private_key, platform_message(timestamp, nonce, body)),
            "Wechatpay-Serial": self._keys.platform_public_key_id,
            "Wechatpay-Signature-Type": SCHEMA,
            "Request-ID": new_nonce(),
        }

    def _hold(self) -> None:
        self._stopping.wait(self._hang_seconds)

    def _side_door(self, method: str, path: str, payload: Any) -> tuple[int, Any]:
        """``/__sim__/…``: set-up and inspection for tests and the demo."""
        if method == "GET" and path == "/__sim__/ledger":
            return 200, self.ledger()
        if method == "GET" and path == "/__sim__/notifications":
            return 200, self.notifications()
        if method == "GET" and path == "/__sim__/credentials":
            return 200, {**self._keys.credentials(), "base_url": self.base_url}
        try:
            if method == "POST" and path == "/__sim__/payments":
                paid_at = datetime.fromisoformat(payload["paid_at"]) if payload.get("paid_at") else None
                tx = self.add_payment(
                    str(payload["out_trade_no"]), int(payload["total_fen"]), paid_at, payload.get("transaction_id")
                )
                return 200, {"transaction_id": tx}
            if method == "POST" and path == "/__sim__/faults":
                self.set_fault(
                    str(payload["refund_no"]),
                    str(payload["fault"]),
                    applied=payload.get("applied"),
                    code=str(payload.get("code", "")),
                    times=payload.get("times"),
                )
                return 200, {"ok": True}
            if method == "POST" and path == "/__sim__/complete":
                self.complete(str(payload["refund_no"]))
                return 200, {"ok": True}
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            return 400, {"error": f"{type(e).__name__}: {e}"}
        return 404, {"error": "no such side door"}

    def _route(self, method: str, raw_path: str, headers: Any, body: bytes) -> tuple[int, dict[str, Any] | None, str]:
        """``/v3`` routes after authentication: (status, JSON body or None, action)."""
        path = urlsplit(raw_path).path
        try:
            payload = json.loads(body) if body else None
        except ValueError:
            return 400, {"code": "PARAM_ERROR", "message": "请求体不是合法的JSON"}, "answer"
        if method == "POST" and path == REFUNDS_PATH:
            result = self.book.create(payload)
            return result.status, result.body, result.action
        prefix = REFUNDS_PATH + "/"
        if path.startswith(prefix):
            rest = unquote(path[len(prefix) :])
            if method == "GET" and "/" not in rest:
                status, obj = self.book.query(rest)
                return status, obj, "answer"
            refund_id, _, action = rest.partition("/")
            if method == "POST" and action == "apply-abnormal-refund":
                refused = self._check_sensitive(headers, payload)
                if refused is not None:
                    return 400, refused, "answer"
                status, obj = self.book.apply_abnormal(refund_id, payload)
                return status, obj, "answer"
        return 404, {"code": "RESOURCE_NOT_EXISTS", "message": "接口不存在"}, "answer"


def _handler_for(sim: WeChatPaySimulator) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "WeChatPaySimulator"
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
            if self.path.startswith("/__sim__/"):
                try:
                    payload = json.loads(body) if body else {}
                except ValueError:
                    payload = None
                status, obj = sim._side_door(method, urlsplit(self.path).path, payload or {})
                self._answer(status, json.dumps(obj, ensure_ascii=False).encode(), {"Content-Type": "application/json"})
                return
            refused = sim._authenticate(method, self.path, self.headers, body)
            if refused is not None:
                status, obj, action = refused[0], refused[1], "answer"
            elif sim._over_rate():
                status, obj, action = (
                    429,
                    {"code": "FREQUENCY_LIMITED", "message": "请求频率超限，请降低频率"},
                    "answer",
                )
            else:
                status, obj, action = sim._route(method, self.path, self.headers, body)
            if action == "hang":
                sim._hold()  # executed, but the answer never comes: the client times out
                self.close_connection = True
                return
            if action == "drop":
                self.close_connection = True
                return
            if action == "bare_500":
                page = b"<html><body><h1>500 Internal Server Error</h1></body></html>"
                self._answer(500, page, {"Content-Type": "text/html"})
                return
            raw = json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()
            self._answer(status, raw, sim._signed_headers(raw))

        def _answer(self, status: int, raw: bytes, headers: dict[str, str]) -> None:
            self.send_response(status, HTTPStatus(status).phrase)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

    return Handler


def main(argv: Sequence[str] | None = None) -> int:
    """Serve in the foreground until Ctrl-C or SIGTERM."""
    parser = argparse.ArgumentParser(prog="posrefund simulate wechatpay", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8802)
    parser.add_argument("--keys-dir", type=Path, help="keep keys here (reused on restart); default: fresh keys")
    parser.add_argument("--settle-after", type=float, default=2.0, help="seconds until a refund finishes")
    parser.add_argument("--notify-url", default="", help="used when a request names none")
    parser.add_argument("--min-gap-seconds", type=float, default=0.0, help="refunds of one order ≥ this apart")
    parser.add_argument("--accept-unknown-orders", action="store_true", help="take unregistered orders at face value")
    parser.add_argument("--fault-rate", type=float, default=0.0, help="share of new refunds given a random fault")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-qps", type=int, default=None, help="429 FREQUENCY_LIMITED above this rate")
    parser.add_argument(
        "--real-notify-schedule", action="store_true", help="retry notifications over 24 h 4 m, not 100× faster"
    )
    args = parser.parse_args(argv)
    keys = WeChatPayKeys.load_or_generate(args.keys_dir) if args.keys_dir else None
    sim = WeChatPaySimulator(
        port=args.port,
        keys=keys,
        settle_after=args.settle_after,
        notify_url=args.notify_url,
        min_gap_same_order=args.min_gap_seconds,
        accept_unknown_orders=args.accept_unknown_orders,
        fault_rate=args.fault_rate,
        seed=args.seed,
        max_qps=args.max_qps,
        notify_retry_delays=REAL_RETRY_SCHEDULE if args.real_notify_schedule else DEMO_RETRY_DELAYS,
    )
    done = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: done.set())
    with sim:
        url = sim.base_url
        sys.stdout.write(f"WeChat Pay simulator on {url} (mchid {sim.mchid}); credentials: {url}/__sim__/credentials\n")
        sys.stdout.flush()
        try:
            while not done.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
    signal.signal(signal.SIGTERM, previous)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
