"""A local WeChat Pay APIv3 for refunds, true to the protocol, with fault injection.

It checks the merchant's request signatures (401 SIGN_ERROR otherwise), signs every ``/v3`` answer with the
platform key (``Wechatpay-*`` headers), applies the refund rules in ``ledger`` and ``rules`` and POSTs refund
notifications (AEAD_AES_256_GCM with the APIv3 key, platform-signed) to ``notify_url``, retrying on failure.

Side doors for tests and the demo (unsigned, under ``/__sim__/``): ``GET ledger``, ``GET notifications``,
``GET credentials``, ``POST payments``, ``POST faults``, ``POST complete``.

Run it: ``python -m posrefund.simulators.wechatpay.server --port 8802 [--keys-dir DIR]``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from email.message import Message
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from posrefund.simulators.common.faults import FaultPlan, add_fault_flags, fault_settings
from posrefund.simulators.common.http_life import BARE_500, HttpAnswer, HttpSimulatorLife
from posrefund.simulators.common.ledger import KeepsBooks
from posrefund.simulators.common.life import serve_in_foreground
from posrefund.simulators.common.notify import Notifies
from posrefund.simulators.common.rsa_keys import FromKeys
from posrefund.simulators.common.side_door import Routes, wallet_routes
from posrefund.simulators.wechatpay.crypto import WeChatPayKeys, new_nonce
from posrefund.simulators.wechatpay.gateway import RateLimit, authenticate, check_sensitive, signed_headers
from posrefund.simulators.wechatpay.ledger import RefundBook
from posrefund.simulators.wechatpay.notify import DEMO_RETRY_DELAYS, REAL_RETRY_SCHEDULE, Notifier
from posrefund.simulators.wechatpay.rules import DEFAULT_RATE_FAULTS, FAULT_NAMES, FAULTS, Refund, utc_now

__all__ = ["FAULTS", "WeChatPayKeys", "WeChatPaySimulator", "main"]

REFUNDS_PATH = "/v3/refund/domestic/refunds"
_JSON = "application/json; charset=utf-8"


class WeChatPaySimulator(KeepsBooks, Notifies, HttpSimulatorLife):
    """WeChat Pay's refund API on ``127.0.0.1:<port>`` in a background thread; ``with`` starts and stops it.

    ``settle_after``: seconds after which a PROCESSING refund finishes on its own (``None``: only when queried
    or completed). ``processing_queries``: how many queries ``processing_then_success`` answers PROCESSING;
    ``processing_seconds``: instead, how long a drawn one stays PROCESSING before it finishes on its own.
    ``notify_retry_delays``: seconds between notification retries (default: the real schedule / 100).
    ``clock``: business time (order age, create/success times); signatures use the wall clock, as WeChat does.
    ``max_qps``: signed requests per second above which the answer is 429 FREQUENCY_LIMITED (None: no limit).
    ``sub_merchants``: 服务商 mode: the keys' ``mchid`` is the provider's ``sp_mchid`` and these sub-merchants
    are bound to it; every refund and query must name one (``sub_mchid``), notifications carry both.
    Fault switches (``fault_rate``, ``rate_faults``, ``fault_rates``, ``seed``): ``simulators.common.faults``.
    """

    server_version = "WeChatPaySimulator"
    book: RefundBook
    mchid = FromKeys()
    merchant_private_key_pem = FromKeys()
    merchant_public_key_pem = FromKeys()
    merchant_serial_no = FromKeys()
    platform_public_key_pem = FromKeys()
    platform_public_key_id = FromKeys()
    apiv3_key = FromKeys()

    def __init__(
        self,
        *,
        port: int = 0,
        keys: WeChatPayKeys | None = None,
        clock: Callable[[], datetime] = utc_now,
        settle_after: float | None = None,
        processing_queries: int = 2,
        processing_seconds: float | None = None,
        notify_url: str = "",
        notify_retry_delays: Sequence[float] = DEMO_RETRY_DELAYS,
        notify_timeout: float = 2.0,
        hang_seconds: float = 5.0,
        min_gap_same_order: float = 0.0,
        accept_unknown_orders: bool = False,
        fault_rate: float = 0.0,
        rate_faults: Iterable[str] = DEFAULT_RATE_FAULTS,
        fault_rates: Mapping[str, float] | None = None,
        seed: int = 0,
        max_clock_skew: float = 300.0,
        max_qps: int | None = None,
        sub_merchants: Iterable[str] | None = None,
    ) -> None:
        self._keys = keys or WeChatPayKeys.generate()  # RSA 2048 for merchant and platform, made at start-up
        self._settle_after = settle_after
        self._max_skew = max_clock_skew
        self._rate = RateLimit(max_qps)
        self._init_life("wechatpay", port, hang_seconds)
        self._notifier = Notifier(self._keys, clock, lambda: self._scheduler, notify_retry_delays, notify_timeout)
        faults = FaultPlan(
            FAULTS,
            fault_rate=fault_rate,
            rate_faults=rate_faults,
            fault_rates=fault_rates,
            seed=seed,
            names=FAULT_NAMES,
        )
        self.book = RefundBook(
            self._keys.mchid,
            clock,
            self._on_final,
            self._schedule_settle if settle_after is not None else None,
            faults,
            processing_queries=processing_queries,
            processing_seconds=processing_seconds,
            min_gap_same_order=timedelta(seconds=min_gap_same_order),
            accept_unknown_orders=accept_unknown_orders,
            default_notify_url=notify_url,
            sub_merchants=None if sub_merchants is None else frozenset(sub_merchants),
        )
        self.add_payment = self.book.add_payment
        self._delivery_log = self._notifier.log

    # ---- keys ---------------------------------------------------------------------------------------------

    @property
    def keys(self) -> WeChatPayKeys:
        return self._keys

    # ---- set-up and inspection ---------------------------------------------------------------------------

    def complete(self, refund_no: str) -> None:
        """Let time pass for one refund: a PROCESSING refund reaches its final status (and is notified)."""
        self.book.complete(refund_no)

    # ---- notifications ----------------------------------------------------------------------------------

    def _schedule_settle(self, refund_no: str, held: float) -> None:
        assert self._settle_after is not None
        self._scheduler.after(self._settle_after + held, lambda: self.book.settle(refund_no))

    def _on_final(self, refund: Refund) -> None:
        self._notifier.refund_final(refund, self.book.notification_plain(refund))

    # ---- HTTP -------------------------------------------------------------------------------------------

    def _side_routes(self) -> Routes:
        def add_payment(payload: dict[str, Any]) -> tuple[int, Any]:
            paid_at = datetime.fromisoformat(payload["paid_at"]) if payload.get("paid_at") else None
            tx = self.add_payment(
                str(payload["out_trade_no"]),
                int(payload["total_fen"]),
                paid_at,
                payload.get("transaction_id"),
                str(payload.get("user_received_account") or "支付用户零钱"),
                str(payload.get("sub_mchid") or ""),
            )
            return 200, {"transaction_id": tx}

        return wallet_routes(
            ledger=self.ledger,
            notifications=self.notifications,
            credentials=lambda: {**self._keys.credentials(), "base_url": self.base_url},
            add_payment=add_payment,
            complete=self.complete,
            set_fault=self.book.set_fault,
            supported_faults=self.supported_faults,
        )

    def _answer_http(self, method: str, raw_path: str, headers: Message, body: bytes) -> HttpAnswer:
        """Authenticate, limit the rate, route; answers are signed with the platform key."""
        refused = authenticate(self._keys, self._max_skew, method, raw_path, headers, body)
        if refused is not None:
            status, obj, action = refused[0], refused[1], "answer"
        elif self._rate.exceeded():
            status, obj, action = 429, {"code": "FREQUENCY_LIMITED", "message": "请求频率超限，请降低频率"}, "answer"
        else:
            status, obj, action = self._route(method, raw_path, headers, body)
        if action == "bare_500":
            return BARE_500
        raw = json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()
        signed = signed_headers(self._keys, raw, _JSON) | {"Request-ID": new_nonce()}
        return HttpAnswer(status, raw, signed, action=action)

    def _route(self, method: str, raw_path: str, headers: Message, body: bytes) -> tuple[int, Any, str]:
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
                sub_mchid = parse_qs(urlsplit(raw_path).query).get("sub_mchid", [""])[0]
                status, obj = self.book.query(rest, sub_mchid)
                return status, obj, "answer"
            refund_id, _, action = rest.partition("/")
            if method == "POST" and action == "apply-abnormal-refund":
                refused = check_sensitive(self._keys, headers, payload)
                if refused is not None:
                    return 400, refused, "answer"
                result = self.book.apply_abnormal(refund_id, payload)
                return result.status, result.body, result.action
        return 404, {"code": "RESOURCE_NOT_EXISTS", "message": "接口不存在"}, "answer"


def main(argv: Sequence[str] | None = None) -> int:
    """Serve in the foreground until Ctrl-C or SIGTERM."""
    parser = argparse.ArgumentParser(prog="posrefund simulate wechatpay", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8802)
    parser.add_argument("--keys-dir", type=Path, help="keep keys here (reused on restart); default: fresh keys")
    parser.add_argument("--settle-after", type=float, default=2.0, help="seconds until a refund finishes")
    parser.add_argument(
        "--processing-seconds", type=float, default=None, help="a drawn processing fault lasts this long, not 2 queries"
    )
    parser.add_argument("--notify-url", default="", help="used when a request names none")
    parser.add_argument("--min-gap-seconds", type=float, default=0.0, help="refunds of one order ≥ this apart")
    parser.add_argument("--accept-unknown-orders", action="store_true", help="take unregistered orders at face value")
    parser.add_argument("--max-qps", type=int, default=None, help="429 FREQUENCY_LIMITED above this rate")
    parser.add_argument(
        "--sub-merchant", action="append", default=None, help="服务商 mode: a sub_mchid bound to the provider"
    )
    parser.add_argument(
        "--real-notify-schedule", action="store_true", help="retry notifications over 24 h 4 m, not 100× faster"
    )
    add_fault_flags(parser, FAULTS)
    args = parser.parse_args(argv)
    keys = WeChatPayKeys.load_or_generate(args.keys_dir) if args.keys_dir else None
    try:
        sim = WeChatPaySimulator(
            port=args.port,
            keys=keys,
            settle_after=args.settle_after,
            processing_seconds=args.processing_seconds,
            notify_url=args.notify_url,
            min_gap_same_order=args.min_gap_seconds,
            accept_unknown_orders=args.accept_unknown_orders,
            max_qps=args.max_qps,
            sub_merchants=args.sub_merchant,
            notify_retry_delays=REAL_RETRY_SCHEDULE if args.real_notify_schedule else DEMO_RETRY_DELAYS,
            **fault_settings(args, DEFAULT_RATE_FAULTS),
        )
    except ValueError as exc:
        parser.error(str(exc))

    def banner() -> str:
        url = sim.base_url
        return f"WeChat Pay simulator on {url} (mchid {sim.mchid}); credentials: {url}/__sim__/credentials"

    return serve_in_foreground(sim, banner)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
