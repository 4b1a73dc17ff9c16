"""A local Alipay OpenAPI gateway for refunds: ``alipay.trade.refund`` and ``alipay.trade.fastpay.refund.query``
behind one ``/gateway.do`` endpoint, RSA2-signed both ways, with RSA2-signed form-encoded notifications.

It stands in for ``https://openapi.alipay.com/gateway.do`` (CHANNELS.md §2) so the adapter, the demo and the
tests exercise the real protocol: common parameters in the query string or a form body, the app's signature
checked over the sorted ``k=v&…`` string (40002 isv.invalid-signature otherwise), responses
``{"alipay_trade_refund_response": {...}, "sign": "..."}`` signed with Alipay's key, business errors 40004 +
``sub_code``, and faults injected per refund number. Side doors under ``/__sim__/`` set it up and show its ledger.

Run it: ``python -m posrefund.simulators.alipay.server --port 8803``.
"""

from __future__ import annotations

import argparse
import functools
import json
import secrets
import signal
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from posrefund.simulators.alipay.crypto import (
    BEIJING,
    TIME_FORMAT,
    AlipayKeys,
    beijing,
    rsa2_sign,
    rsa2_verify,
    sign_content,
)
from posrefund.simulators.alipay.ledger import (
    DEFAULT_RATE_FAULTS,
    FAULTS,
    PROCESSING,
    FaultSpec,
    Refund,
    RefundBook,
    Result,
    business_error,
)
from posrefund.simulators.common.http_life import HttpSimulatorLife

__all__ = ["FAULTS", "AlipayKeys", "AlipaySimulator", "main"]

GATEWAY_PATH = "/gateway.do"
METHODS = ("alipay.trade.refund", "alipay.trade.fastpay.refund.query")
# Alipay resends an unacknowledged notification up to 8 times within 25 h: 4m, 10m, 10m, 1h, 2h, 6h, 15h.
REAL_RETRY_SCHEDULE = (240, 600, 600, 3600, 7200, 21600, 54000)
DEMO_RETRY_DELAYS = tuple(seconds / 100 for seconds in REAL_RETRY_SCHEDULE)  # same shape, 100 times faster
DEPOSIT_BACK_METHOD = "alipay.trade.refund.depositback.completed"


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class _Delivery:
    """One notification on its way: the same ``notify_id`` on every retry, its time field and sign made afresh."""

    url: str
    notify_id: str
    refund_no: str
    params: dict[str, str]
    kind: str  # trade | duplicate | forged | depositback
    attempt: int = 0


class AlipaySimulator(HttpSimulatorLife):
    """Alipay's gateway on ``127.0.0.1:<port>`` in a background thread; ``with`` starts and stops it.

    ``min_gap_same_trade``: seconds a new refund of one trade must wait after the previous one (Alipay: 3; 0 =
    off); a quicker one gets ACQ.SYSTEM_ERROR with nothing done. ``refund_window``: after it a trade is finished
    (ACQ.TRADE_HAS_FINISHED). ``settle_after``: seconds after which a refund taken with fund_change=N finishes on
    its own (``None``: only when queried or completed). ``query_delay``: a refund younger than this is not yet
    visible to the query. ``max_clock_skew``: how far the request ``timestamp`` (Beijing time) may be off the wall
    clock (``None``: not checked). ``clock``: business time (payment age, refund times).
    """

    def __init__(
        self,
        *,
        port: int = 0,
        keys: AlipayKeys | None = None,
        clock: Callable[[], datetime] = _utc_now,
        notify_url: str = "",
        notify_retry_delays: Sequence[float] = DEMO_RETRY_DELAYS,
        notify_timeout: float = 2.0,
        notify_delay: float = 0.0,
        hang_seconds: float = 5.0,
        min_gap_same_trade: float = 3.0,
        refund_window: timedelta = timedelta(days=365),
        settle_after: float | None = None,
        processing_queries: int = 2,
        query_delay: float = 0.0,
        max_clock_skew: float | None = 900.0,
        fault_rate: float = 0.0,
        rate_faults: Iterable[str] = DEFAULT_RATE_FAULTS,
        seed: int = 0,
    ) -> None:
        self._port = port
        self._keys = keys or AlipayKeys.generate()  # RSA 2048 for the app and for "Alipay", made at start-up
        self._clock = clock
        self._retry_delays = tuple(notify_retry_delays)
        self._notify_timeout = notify_timeout
        self._notify_delay = notify_delay
        self._hang_seconds = hang_seconds
        self._settle_after = settle_after
        self._max_skew = max_clock_skew
        self._init_life("alipay", port)
        self._deliveries: list[dict[str, Any]] = []
        self._deliveries_cv = threading.Condition()
        self._settling: set[int] = set()
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # notify_url directly
        self.book = RefundBook(
            clock,
            default_notify_url=notify_url,
            refund_window=refund_window,
            min_gap_same_trade=min_gap_same_trade,
            query_delay=query_delay,
            processing_queries=processing_queries,
            fault_rate=fault_rate,
            rate_faults=rate_faults,
            seed=seed,
        )

    # ---- life -------------------------------------------------------------------------------------------

    def _make_handler(self) -> type[BaseHTTPRequestHandler]:
        return _handler_for(self)

    @property
    def gateway_url(self) -> str:
        """What replaces ``https://openapi.alipay.com/gateway.do`` in the client."""
        return self.base_url + GATEWAY_PATH

    @property
    def keys(self) -> AlipayKeys:
        return self._keys

    @property
    def app_id(self) -> str:
        return self._keys.app_id

    @property
    def app_private_key_pem(self) -> str:
        return self._keys.app_private_key_pem

    @property
    def app_public_key_pem(self) -> str:
        return self._keys.app_public_key_pem

    @property
    def alipay_public_key_pem(self) -> str:
        return self._keys.alipay_public_key_pem

    # ---- set-up and inspection ---------------------------------------------------------------------------

    def add_payment(
        self,
        out_trade_no: str,
        total_fen: int,
        paid_at: datetime | None = None,
        trade_no: str | None = None,
        notify_url: str | None = None,
        bank_card: bool = False,
    ) -> str:
        """Register a paid trade Alipay knows; returns its ``trade_no``. ``notify_url`` is the payment's (the
        refund API has none, so refunds are notified there); ``bank_card``: refunds also send a deposit-back
        message."""
        return self.book.add_payment(out_trade_no, total_fen, paid_at, trade_no, notify_url, bank_card)

    def set_fault(
        self, refund_no: str, fault: str, *, applied: bool | None = None, code: str = "", times: int | None = None
    ) -> None:
        """Plan a fault for one refund number (names in ``FAULTS``); several may be set for one number."""
        self.book.set_fault(refund_no, FaultSpec(fault, applied, code, times))

    def clear_faults(self) -> None:
        self.book.clear_faults()

    def complete(self, refund_no: str) -> None:
        """Let time pass for one refund taken with fund_change=N: its money moves now (and is notified)."""
        refund = self.book.complete(refund_no)
        if refund is not None:
            self._notify(refund)

    def ledger(self) -> list[dict[str, Any]]:
        return self.book.ledger()

    def notifications(self) -> list[dict[str, Any]]:
        """Every delivery attempt: notify_id, refund_no, kind, attempt, status, answer, error."""
        with self._deliveries_cv:
            return list(self._deliveries)

    def wait_notifications(self, count: int, timeout: float = 5.0) -> list[dict[str, Any]]:
        """Block until at least ``count`` delivery attempts were made (or the timeout passes)."""
        deadline = time.monotonic() + timeout
        with self._deliveries_cv:
            while len(self._deliveries) < count and (left := deadline - time.monotonic()) > 0:
                self._deliveries_cv.wait(left)
            return list(self._deliveries)

    # ---- the gateway -------------------------------------------------------------------------------------

    def _gateway(self, params: dict[str, str]) -> tuple[str, Result, bool]:
        """(response key, result, signed?) for one gateway call. Errors in the common parameters come back
        unsigned, as Alipay's do; everything past the signature check is signed."""
        method = params.get("method", "")
        key = method.replace(".", "_") + "_response" if method in METHODS else "error_response"

        def refused(code: str, sub_code: str, sub_msg: str) -> tuple[str, Result, bool]:
            msg = "Missing Required Arguments" if code == "40001" else "Invalid Arguments"
            return key, Result({"code": code, "msg": msg, "sub_code": sub_code, "sub_msg": sub_msg}), False

        if not params.get("app_id"):
            return refused("40001", "isv.missing-app-id", "缺少AppID参数")
        if params["app_id"] != self._keys.app_id:
            return refused("40002", "isv.invalid-app-id", "无效的AppID参数")
        if not method:
            return refused("40001", "isv.missing-method", "缺少方法名参数")
        if method not in METHODS:
            return refused("40002", "isv.invalid-method", "不存在的方法名")
        if not params.get("sign"):
            return refused("40001", "isv.missing-signature", "缺少签名参数")
        if not params.get("sign_type"):
            return refused("40001", "isv.missing-signature-type", "缺少签名类型参数")
        if params["sign_type"] != "RSA2":
            return refused("40002", "isv.invalid-signature-type", "无效的签名类型参数")
        if params.get("format", "JSON").upper() != "JSON":
            return refused("40002", "isv.invalid-format", "无效的数据格式参数")
        if params.get("version") != "1.0":
            return refused("40002", "isv.invalid-version", "版本号错误")
        if not params.get("timestamp"):
            return refused("40001", "isv.missing-timestamp", "缺少时间戳参数")
        try:
            sent = datetime.strptime(params["timestamp"], TIME_FORMAT).replace(tzinfo=BEIJING)
        except ValueError:
            return refused("40002", "isv.invalid-timestamp", "非法的时间戳参数")
        if self._max_skew is not None and abs(time.time() - sent.timestamp()) > self._max_skew:
            return refused("40002", "isv.invalid-timestamp", "非法的时间戳参数")
        app_key = self._keys.app_private_key.public_key()
        if not rsa2_verify(app_key, sign_content(params, leave_out=("sign",)), params["sign"]):
            return refused("40002", "isv.invalid-signature", "验签出错，建议检查签名字符串或签名私钥与应用公钥是否匹配")
        try:
            biz = json.loads(params.get("biz_content") or "{}")
        except ValueError:
            biz = None
        if not isinstance(biz, dict):
            return key, Result(business_error("ACQ.INVALID_PARAMETER", "biz_content 不是合法的JSON")), True
        result = self.book.refund(biz) if method == "alipay.trade.refund" else self.book.query(biz)
        refund = result.refund
        if result.executed and refund is not None:
            # An early callback is delivered before the answer that would reveal the success.
            self._notify(refund, synchronous="callback_before_query" in refund.faults)
        elif refund is not None and refund.status == PROCESSING and self._settle_after is not None:
            self._schedule_settle(refund)
        return key, result, True

    def _signed_body(self, key: str, body: dict[str, Any], signed: bool) -> bytes:
        """Alipay signs the exact text of the inner object; the client finds it by its key and verifies it."""
        inner = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
        if not signed:
            return f'{{"{key}":{inner}}}'.encode()
        sign = rsa2_sign(self._keys.alipay_private_key, inner)
        return f'{{"{key}":{inner},"sign":"{sign}"}}'.encode()

    def _hold(self) -> None:
        self._stopping.wait(self._hang_seconds)

    # ---- notifications ----------------------------------------------------------------------------------

    def _schedule_settle(self, refund: Refund) -> None:
        if id(refund) in self._settling:
            return
        self._settling.add(id(refund))
        assert self._settle_after is not None
        self._scheduler.after(self._settle_after, lambda: self.complete(refund.out_request_no))

    def _notify(self, refund: Refund, *, synchronous: bool = False) -> None:
        """Queue (or send now) the trade notification of an executed refund, plus a deposit-back message for a
        bank-card payer. Callback faults shape what is sent: a forged one first, a duplicate after."""
        url = refund.payment.notify_url
        if not url:
            return
        params = self.book.trade_notification(refund)
        notify_id = secrets.token_hex(16) + "ha"
        kinds = ["trade"]
        if "bad_signature_callback" in refund.faults:
            kinds.insert(0, "forged")
        if "duplicate_callback" in refund.faults:
            kinds.append("duplicate")
        deliveries = [_Delivery(url, notify_id, refund.out_request_no, params, kind) for kind in kinds]
        if refund.payment.bank_card:
            biz = {
                "trade_no": refund.payment.trade_no,
                "out_trade_no": refund.payment.out_trade_no,
                "out_request_no": refund.out_request_no,
                **{k: v for k, v in self.book.deposit_back_info(refund).items() if k != "has_deposit_back"},
            }
            message = {"msg_method": DEPOSIT_BACK_METHOD, "biz_content": json.dumps(biz, ensure_ascii=False)}
            deliveries.append(
                _Delivery(url, secrets.token_hex(16) + "db", refund.out_request_no, message, "depositback")
            )
        for i, delivery in enumerate(deliveries):
            if synchronous:
                self._deliver(delivery)
            else:
                self._scheduler.after(self._notify_delay + 0.01 * i, functools.partial(self._deliver, delivery))

    def _form(self, d: _Delivery) -> bytes:
        """Sign afresh for this attempt: the send time is part of what is signed."""
        params = {**d.params, "notify_id": d.notify_id, "app_id": self._keys.app_id, "charset": "utf-8"}
        if d.kind == "depositback":
            params.update(utc_timestamp=str(int(time.time() * 1000)), version="1.1")
        else:
            params.update(notify_time=beijing(self._clock()), version="1.0")
        # A forged notification is signed with a key that is not Alipay's (here: the app's own).
        signer = self._keys.app_private_key if d.kind == "forged" else self._keys.alipay_private_key
        params["sign"] = rsa2_sign(signer, sign_content(params, leave_out=("sign", "sign_type")))
        params["sign_type"] = "RSA2"
        return urlencode(params).encode("ascii")

    def _deliver(self, d: _Delivery) -> None:
        status, answer, error = 0, "", ""
        if urlsplit(d.url).scheme not in ("http", "https"):
            error = "notify_url is not http(s)"
        else:
            request = urllib.request.Request(  # noqa: S310 - the scheme is checked above
                d.url,
                data=self._form(d),
                headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
                method="POST",
            )
            try:
                with self._opener.open(request, timeout=self._notify_timeout) as response:
                    status, answer = response.status, response.read(64).decode("utf-8", "replace").strip()
            except urllib.error.HTTPError as e:
                status = e.code
            except OSError as e:
                error = f"{type(e).__name__}: {e}"
        with self._deliveries_cv:
            self._deliveries.append(
                {
                    "notify_id": d.notify_id,
                    "refund_no": d.refund_no,
                    "kind": d.kind,
                    "attempt": d.attempt,
                    "status": status,
                    "answer": answer,
                    "error": error,
                }
            )
            self._deliveries_cv.notify_all()
        # Alipay counts a notification as received only when the answer is the seven letters "success".
        acknowledged = status == 200 and answer == "success"
        if (
            not acknowledged
            and d.kind != "forged"
            and d.attempt < len(self._retry_delays)
            and not self._stopping.is_set()
        ):
            delay = self._retry_delays[d.attempt]
            retry = replace(d, attempt=d.attempt + 1)
            self._scheduler.after(delay, functools.partial(self._deliver, retry))

    # ---- side doors -------------------------------------------------------------------------------------

    def _side_door(self, method: str, path: str, payload: Any) -> tuple[int, Any]:
        """``/__sim__/…``: set-up and inspection for tests and the demo."""
        if method == "GET" and path == "/__sim__/ledger":
            return 200, self.ledger()
        if method == "GET" and path == "/__sim__/notifications":
            return 200, self.notifications()
        if method == "GET" and path == "/__sim__/credentials":
            return 200, {**self._keys.credentials(), "gateway_url": self.gateway_url}
        try:
            if method == "POST" and path == "/__sim__/payments":
                paid_at = datetime.fromisoformat(payload["paid_at"]) if payload.get("paid_at") else None
                trade_no = self.add_payment(
                    str(payload["out_trade_no"]),
                    int(payload.get("total_fen", payload.get("amount_fen"))),
                    paid_at,
                    payload.get("trade_no"),
                    payload.get("notify_url"),
                    bool(payload.get("bank_card", False)),
                )
                return 200, {"trade_no": trade_no}
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


def _read_params(query: str, body: bytes, content_type: str) -> dict[str, str] | None:
    """Common parameters from the query string and a form body (both are allowed); None if malformed.
    Values are decoded with the request's ``charset`` (UTF-8 unless it names another, e.g. GBK)."""
    raw = query
    if body and "application/x-www-form-urlencoded" in content_type.lower():
        try:
            raw = "&".join(part for part in (query, body.decode("ascii")) if part)
        except UnicodeDecodeError:
            return None
    probe = dict(parse_qsl(raw, keep_blank_values=True, encoding="latin-1"))
    charset = probe.get("charset") or "utf-8"
    try:
        pairs = parse_qsl(raw, keep_blank_values=True, encoding=charset, errors="strict")
    except (LookupError, UnicodeDecodeError):
        return None
    params: dict[str, str] = {}
    for k, v in pairs:
        if k in params:
            return None
        params[k] = v
    return params


def _handler_for(sim: AlipaySimulator) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "AlipaySimulator"
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
            parts = urlsplit(self.path)
            if parts.path.startswith("/__sim__/"):
                try:
                    payload = json.loads(body) if body else {}
                except ValueError:
                    payload = None
                status, obj = sim._side_door(method, parts.path, payload if isinstance(payload, dict) else {})
                self._answer(status, json.dumps(obj, ensure_ascii=False).encode(), "application/json; charset=utf-8")
                return
            if parts.path != GATEWAY_PATH:
                self._answer(404, b"<html><body>404 Not Found</body></html>", "text/html")
                return
            params = _read_params(parts.query, body, self.headers.get("Content-Type", ""))
            if params is None:
                key, result, signed = "error_response", Result(business_error("ACQ.INVALID_PARAMETER")), False
            else:
                key, result, signed = sim._gateway(params)
            if result.action == "hang":
                sim._hold()  # executed, but the answer never comes: the client times out
                self.close_connection = True
                return
            if result.action == "drop":
                self.close_connection = True
                return
            if result.action == "bare_500":
                page = b"<html><body><h1>500 Internal Server Error</h1></body></html>"
                self._answer(500, page, "text/html")
                return
            self._answer(200, sim._signed_body(key, result.body, signed), "text/html;charset=utf-8")

        def _answer(self, status: int, raw: bytes, content_type: str) -> None:
            self.send_response(status, HTTPStatus(status).phrase)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

    return Handler


def main(argv: Sequence[str] | None = None) -> int:
    """Serve in the foreground until Ctrl-C or SIGTERM."""
    parser = argparse.ArgumentParser(prog="posrefund simulate alipay", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8803, help="port on 127.0.0.1 (0 picks a free one)")
    parser.add_argument("--keys-dir", type=Path, help="keep keys here (reused on restart); default: fresh keys")
    parser.add_argument("--app-id", default="2021000000000001", help="the app id of fresh keys")
    parser.add_argument("--notify-url", default="", help="used for payments registered without one")
    parser.add_argument("--min-gap-seconds", type=float, default=3.0, help="refunds of one trade ≥ this apart")
    parser.add_argument("--refund-window-days", type=int, default=365, help="after this a trade is finished")
    parser.add_argument("--settle-after", type=float, default=2.0, help="seconds until a fund_change=N refund ends")
    parser.add_argument("--fault-rate", type=float, default=0.0, help="share of new refunds given a random fault")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    keys = (
        AlipayKeys.load_or_generate(args.keys_dir, args.app_id) if args.keys_dir else AlipayKeys.generate(args.app_id)
    )
    sim = AlipaySimulator(
        port=args.port,
        keys=keys,
        notify_url=args.notify_url,
        min_gap_same_trade=args.min_gap_seconds,
        refund_window=timedelta(days=args.refund_window_days),
        settle_after=args.settle_after,
        fault_rate=args.fault_rate,
        seed=args.seed,
    )
    done = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: done.set())
    with sim:
        url = sim.base_url
        sys.stdout.write(
            f"Alipay simulator: gateway {sim.gateway_url} (app_id {sim.app_id}); "
            f"credentials: {url}/__sim__/credentials\n"
        )
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
