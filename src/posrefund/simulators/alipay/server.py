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
import json
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from email.message import Message
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from posrefund.simulators.alipay.crypto import AlipayKeys
from posrefund.simulators.alipay.fund_auth import FundAuthBook, FundAuthDesk, fund_auth_routes
from posrefund.simulators.alipay.fund_auth_rules import (
    CANCEL,
    DETAIL_QUERY,
    FREEZE,
    FUND_AUTH_FAULTS,
    TRADE_PAY,
    TRADE_QUERY,
    UNFREEZE,
)
from posrefund.simulators.alipay.gateway import (
    GATEWAY_PATH,
    check_common,
    read_params,
    refusal_body,
    response_key,
    signed_body,
)
from posrefund.simulators.alipay.ledger import RefundBook
from posrefund.simulators.alipay.notify import DEMO_RETRY_DELAYS, Notifier, NotifySettings
from posrefund.simulators.alipay.rules import DEFAULT_RATE_FAULTS, FAULTS, PROCESSING, Refund, Result, business_error
from posrefund.simulators.common.faults import FaultPlan, add_fault_flags, fault_settings
from posrefund.simulators.common.http_life import BARE_500, HttpAnswer, HttpSimulatorLife
from posrefund.simulators.common.ledger import KeepsBooks
from posrefund.simulators.common.life import serve_in_foreground
from posrefund.simulators.common.notify import Notifies
from posrefund.simulators.common.rsa_keys import FromKeys
from posrefund.simulators.common.side_door import Routes, wallet_routes

__all__ = ["FAULTS", "AlipayKeys", "AlipaySimulator", "main"]


def _utc_now() -> datetime:
    return datetime.now(UTC)


class AlipaySimulator(KeepsBooks, Notifies, HttpSimulatorLife):
    """Alipay's gateway on ``127.0.0.1:<port>`` in a background thread; ``with`` starts and stops it.

    ``min_gap_same_trade``: seconds a new refund of one trade must wait after the previous one (Alipay: 3; 0 =
    off); a quicker one gets ACQ.SYSTEM_ERROR with nothing done. ``refund_window``: after it a trade is finished
    (ACQ.TRADE_HAS_FINISHED). ``settle_after``: seconds after which a refund taken with fund_change=N finishes on
    its own (``None``: only when queried or completed). ``query_delay``: a refund younger than this is not yet
    visible to the query. ``max_clock_skew``: how far the request ``timestamp`` (Beijing time) may be off the wall
    clock (``None``: not checked). ``clock``: business time (payment age, refund times).
    Fault switches (``fault_rate``, ``rate_faults``, ``fault_rates``, ``seed``): ``simulators.common.faults``.
    """

    server_version = "AlipaySimulator"
    book: RefundBook
    app_id = FromKeys()
    app_private_key_pem = FromKeys()
    app_public_key_pem = FromKeys()
    alipay_public_key_pem = FromKeys()

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
        fault_rates: Mapping[str, float] | None = None,
        seed: int = 0,
    ) -> None:
        self._keys = keys or AlipayKeys.generate()  # RSA 2048 for the app and for "Alipay", made at start-up
        self._settle_after = settle_after
        self._max_skew = max_clock_skew
        self._init_life("alipay", port, hang_seconds)
        self._settling: set[int] = set()
        faults = FaultPlan(FAULTS, fault_rate=fault_rate, rate_faults=rate_faults, fault_rates=fault_rates, seed=seed)
        self.book = RefundBook(
            clock,
            faults,
            default_notify_url=notify_url,
            refund_window=refund_window,
            min_gap_same_trade=min_gap_same_trade,
            query_delay=query_delay,
            processing_queries=processing_queries,
        )
        # Fund authorisation (资金授权): its own book and faults, planned per operation number.
        self.fund_auth = FundAuthDesk(FundAuthBook(clock, FaultPlan(FUND_AUTH_FAULTS, seed=seed)))
        settings = NotifySettings(tuple(notify_retry_delays), notify_timeout, notify_delay)
        self._notifier = Notifier(self._keys, self.book, clock, lambda: self._scheduler, self._stopping, settings)
        self.add_payment = self.book.add_payment
        self._delivery_log = self._notifier.log

    # ---- keys ---------------------------------------------------------------------------------------------

    @property
    def gateway_url(self) -> str:
        """What replaces ``https://openapi.alipay.com/gateway.do`` in the client."""
        return self.base_url + GATEWAY_PATH

    @property
    def keys(self) -> AlipayKeys:
        return self._keys

    # ---- set-up and inspection ---------------------------------------------------------------------------

    def complete(self, refund_no: str) -> None:
        """Let time pass for one refund taken with fund_change=N: its money moves now (and is notified)."""
        refund = self.book.settle(refund_no)
        if refund is not None:
            self._notifier.refund_executed(refund)

    # ---- the gateway -------------------------------------------------------------------------------------

    def _answer_http(self, method: str, raw_path: str, headers: Message, body: bytes) -> HttpAnswer:
        parts = urlsplit(raw_path)
        if parts.path != GATEWAY_PATH:
            return HttpAnswer(404, b"<html><body>404 Not Found</body></html>", {"Content-Type": "text/html"})
        params = read_params(parts.query, body, headers.get("Content-Type", ""))
        if params is None:
            key, result, signed = "error_response", Result(business_error("ACQ.INVALID_PARAMETER")), False
        else:
            key, result, signed = self._gateway(params)
        if result.action == "bare_500":
            return BARE_500
        signer = self._keys.alipay_private_key if signed else None
        certs = self._keys.certificates
        raw = signed_body(key, result.body, signer, certs.alipay_cert_sn if certs is not None else "")
        return HttpAnswer(200, raw, {"Content-Type": "text/html;charset=utf-8"}, action=result.action)

    def _gateway(self, params: dict[str, str]) -> tuple[str, Result, bool]:
        """(response key, result, signed?) for one gateway call. Errors in the common parameters come back
        unsigned, as Alipay's do; everything past the signature check is signed."""
        method = params.get("method", "")
        key = response_key(method)
        refusal = check_common(params, self._keys, self._max_skew)
        if refusal is not None:
            return key, Result(refusal_body(refusal)), False
        try:
            biz = json.loads(params.get("biz_content") or "{}")
        except ValueError:
            biz = None
        if not isinstance(biz, dict):
            return key, Result(business_error("ACQ.INVALID_PARAMETER", "biz_content 不是合法的JSON")), True
        holds = self._fund_auth_methods().get(method)
        if holds is not None:
            return key, holds(biz), True
        result = self.book.refund(biz) if method == "alipay.trade.refund" else self.book.query(biz)
        refund = result.refund
        if result.executed and refund is not None:
            # An early callback is delivered before the answer that would reveal the success.
            self._notifier.refund_executed(refund, synchronous="callback_before_query" in refund.faults)
        elif refund is not None and refund.status == PROCESSING and self._settle_after is not None:
            self._schedule_settle(refund)
        return key, result, True

    def _fund_auth_methods(self) -> dict[str, Callable[[dict[str, Any]], Result]]:
        book = self.fund_auth.book
        return {
            FREEZE: book.freeze,
            UNFREEZE: book.unfreeze,
            DETAIL_QUERY: book.detail_query,
            CANCEL: book.cancel,
            TRADE_PAY: book.trade_pay,
            TRADE_QUERY: book.trade_query,
        }

    def _schedule_settle(self, refund: Refund) -> None:
        if id(refund) in self._settling:
            return
        self._settling.add(id(refund))
        assert self._settle_after is not None
        self._scheduler.after(self._settle_after, lambda: self.complete(refund.out_request_no))

    def _side_routes(self) -> Routes:
        def add_payment(payload: dict[str, Any]) -> tuple[int, Any]:
            paid_at = datetime.fromisoformat(payload["paid_at"]) if payload.get("paid_at") else None
            trade_no = self.add_payment(
                str(payload["out_trade_no"]),
                int(payload["total_fen"] if "total_fen" in payload else payload["amount_fen"]),
                paid_at,
                payload.get("trade_no"),
                payload.get("notify_url"),
                bool(payload.get("bank_card", False)),
            )
            return 200, {"trade_no": trade_no}

        wallet = wallet_routes(
            ledger=self.ledger,
            notifications=self.notifications,
            credentials=lambda: {**self._keys.credentials(), "gateway_url": self.gateway_url},
            add_payment=add_payment,
            complete=self.complete,
            set_fault=self.book.set_fault,
            supported_faults=self.supported_faults,
        )
        return {**wallet, **fund_auth_routes(self.fund_auth)}


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
    parser.add_argument("--cert-mode", action="store_true", help="public-key-certificate mode (a root chain made now)")
    add_fault_flags(parser, FAULTS)
    args = parser.parse_args(argv)
    keys = (
        AlipayKeys.load_or_generate(args.keys_dir, args.app_id) if args.keys_dir else AlipayKeys.generate(args.app_id)
    )
    if args.cert_mode:
        keys = keys.with_certificates()
    try:
        sim = AlipaySimulator(
            port=args.port,
            keys=keys,
            notify_url=args.notify_url,
            min_gap_same_trade=args.min_gap_seconds,
            refund_window=timedelta(days=args.refund_window_days),
            settle_after=args.settle_after,
            **fault_settings(args, DEFAULT_RATE_FAULTS),
        )
    except ValueError as exc:
        parser.error(str(exc))

    def banner() -> str:
        return (
            f"Alipay simulator: gateway {sim.gateway_url} (app_id {sim.app_id}); "
            f"credentials: {sim.base_url}/__sim__/credentials"
        )

    return serve_in_foreground(sim, banner)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
