"""Alipay's notifications after a refund: the trade's ``trade_status_sync`` notify (``out_biz_no`` = the refund
number) and, for a bank-card payer, the deposit-back message; form-encoded, RSA2-signed afresh on every attempt,
retried (8 times within 25 h, or 100 times faster) until the answer is the seven letters ``success``."""

from __future__ import annotations

import functools
import json
import secrets
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from urllib.parse import urlencode

from posrefund.simulators.alipay.crypto import AlipayKeys, beijing, rsa2_sign, sign_content
from posrefund.simulators.alipay.ledger import RefundBook
from posrefund.simulators.alipay.rules import Refund
from posrefund.simulators.common import notify
from posrefund.simulators.common.scheduler import Scheduler

# Alipay resends an unacknowledged notification up to 8 times within 25 h: 4m, 10m, 10m, 1h, 2h, 6h, 15h.
REAL_RETRY_SCHEDULE = (240, 600, 600, 3600, 7200, 21600, 54000)
DEMO_RETRY_DELAYS = tuple(seconds / 100 for seconds in REAL_RETRY_SCHEDULE)  # same shape, 100 times faster
DEPOSIT_BACK_METHOD = "alipay.trade.refund.depositback.completed"
DEPOSIT_BACK = "depositback"


@dataclass(frozen=True)
class Delivery:
    """One notification on its way: the same ``notify_id`` on every retry, its time field and sign made afresh."""

    url: str
    notify_id: str
    refund_no: str
    params: dict[str, str]
    kind: str  # trade | duplicate | forged | depositback
    attempt: int = 0


@dataclass(frozen=True)
class NotifySettings:
    retry_delays: Sequence[float]
    timeout: float
    delay: float  # how long after the refund an ordinary notification leaves


class Notifier:
    """Builds, sends and retries the notifications; ``log`` records every attempt."""

    def __init__(
        self,
        keys: AlipayKeys,
        book: RefundBook,
        clock: Callable[[], datetime],
        scheduler: Callable[[], Scheduler],
        stopping: threading.Event,
        settings: NotifySettings,
    ) -> None:
        self._keys, self._book, self._clock = keys, book, clock
        self._scheduler, self._stopping, self._settings = scheduler, stopping, settings
        self.log = notify.DeliveryLog()

    def refund_executed(self, refund: Refund, *, synchronous: bool = False) -> None:
        """Queue (or send now) the trade notification of an executed refund, plus a deposit-back message for a
        bank-card payer. Callback faults shape what is sent: a forged one first, a duplicate after."""
        url = refund.payment.notify_url
        if not url:
            return
        params = self._book.trade_notification(refund)
        notify_id = secrets.token_hex(16) + "ha"
        kinds = notify.callback_kinds(refund.faults, "trade")
        deliveries = [Delivery(url, notify_id, refund.out_request_no, params, kind) for kind in kinds]
        if refund.payment.bank_card:
            deliveries.append(self._deposit_back(url, refund))
        for i, delivery in enumerate(deliveries):
            if synchronous:
                self.deliver(delivery)
            else:
                offset = self._settings.delay + notify.send_offset(refund.faults, i)
                self._scheduler().after(offset, functools.partial(self.deliver, delivery))

    def _deposit_back(self, url: str, refund: Refund) -> Delivery:
        biz = {
            "trade_no": refund.payment.trade_no,
            "out_trade_no": refund.payment.out_trade_no,
            "out_request_no": refund.out_request_no,
            **{k: v for k, v in self._book.deposit_back_info(refund).items() if k != "has_deposit_back"},
        }
        message = {"msg_method": DEPOSIT_BACK_METHOD, "biz_content": json.dumps(biz, ensure_ascii=False)}
        return Delivery(url, secrets.token_hex(16) + "db", refund.out_request_no, message, DEPOSIT_BACK)

    def _form(self, d: Delivery) -> bytes:
        """Sign afresh for this attempt: the send time is part of what is signed."""
        params = {**d.params, "notify_id": d.notify_id, "app_id": self._keys.app_id, "charset": "utf-8"}
        if d.kind == DEPOSIT_BACK:
            params.update(utc_timestamp=str(int(time.time() * 1000)), version="1.1")
        else:
            params.update(notify_time=beijing(self._clock()), version="1.0")
        # A forged notification is signed with a key that is not Alipay's (here: the app's own).
        signer = self._keys.app_private_key if d.kind == notify.FORGED else self._keys.alipay_private_key
        params["sign"] = rsa2_sign(signer, sign_content(params, leave_out=("sign", "sign_type")))
        params["sign_type"] = "RSA2"
        return urlencode(params).encode("ascii")

    def deliver(self, d: Delivery) -> None:
        headers = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
        status, answer, error = notify.post(d.url, self._form(d), headers, self._settings.timeout)
        self.log.record(
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
        # Alipay counts a notification as received only when the answer is the seven letters "success".
        acknowledged = status == 200 and answer == "success"
        delay = notify.retry_delay(acknowledged, d.kind, d.attempt, self._settings.retry_delays)
        if delay is not None and not self._stopping.is_set():
            self._scheduler().after(delay, functools.partial(self.deliver, replace(d, attempt=d.attempt + 1)))
