"""WeChat Pay's refund notifications: when a refund becomes final, its resource is encrypted with the APIv3 key,
signed with the platform key and POSTed to ``notify_url``, retried on the real schedule (or 100 times faster)
until a 2xx answer; callback faults add a forged copy before it and a duplicate after."""

from __future__ import annotations

import functools
import itertools
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from posrefund.simulators.common import notify
from posrefund.simulators.common.scheduler import Scheduler
from posrefund.simulators.wechatpay.crypto import WeChatPayKeys, encrypt_resource
from posrefund.simulators.wechatpay.gateway import signed_headers
from posrefund.simulators.wechatpay.rules import SHANGHAI, Refund, rfc3339

# WeChat Pay resends a notification that was not acknowledged with a 2xx on this schedule (24 h 4 m in all).
REAL_RETRY_SCHEDULE = (15, 15, 30, 180, 600, 1200, 1800, 1800, 1800, 3600, 10800, 10800, 10800, 21600, 21600)
DEMO_RETRY_DELAYS = tuple(seconds / 100 for seconds in REAL_RETRY_SCHEDULE)  # same shape, 100 times faster
EVENTS = {
    "SUCCESS": ("REFUND.SUCCESS", "退款成功"),
    "ABNORMAL": ("REFUND.ABNORMAL", "退款异常"),
    "CLOSED": ("REFUND.CLOSED", "退款关闭"),
}


@dataclass(frozen=True)
class Delivery:
    """One notification on its way: the same ``notice_id`` (and body) on every retry, signed afresh."""

    url: str
    notice_id: str
    refund_no: str
    event_type: str
    body: bytes
    kind: str  # genuine | duplicate | forged
    attempt: int = 0


class Notifier:
    """Builds, sends and retries the notifications; ``log`` records every attempt."""

    def __init__(
        self,
        keys: WeChatPayKeys,
        clock: Callable[[], datetime],
        scheduler: Callable[[], Scheduler],
        retry_delays: Sequence[float],
        timeout: float,
    ) -> None:
        self._keys = keys
        self._clock = clock
        self._scheduler = scheduler
        self._retry_delays = tuple(retry_delays)
        self._timeout = timeout
        self._seq = itertools.count(1)
        self.log = notify.DeliveryLog()

    def refund_final(self, refund: Refund, plain: dict[str, Any]) -> None:
        """Called under the book's lock when a refund becomes final: build the notification, queue it."""
        if not refund.notify_url:
            return
        event_type, summary = EVENTS[refund.status]
        now = self._clock()
        notice_id = f"EV-{now.astimezone(SHANGHAI):%Y%m%d%H%M%S}{next(self._seq):08d}"
        resource = encrypt_resource(self._keys.apiv3_key, json.dumps(plain, ensure_ascii=False).encode(), "refund")
        body = {
            "id": notice_id,
            "create_time": rfc3339(now),
            "resource_type": "encrypt-resource",
            "event_type": event_type,
            "summary": summary,
            "resource": resource,
        }
        raw = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
        for i, kind in enumerate(notify.callback_kinds(refund.faults, "genuine")):
            delivery = Delivery(refund.notify_url, notice_id, refund.out_refund_no, event_type, raw, kind)
            self._scheduler().after(notify.send_offset(refund.faults, i), functools.partial(self.deliver, delivery))

    def deliver(self, d: Delivery) -> None:
        headers = signed_headers(self._keys, d.body, "application/json", forged=d.kind == notify.FORGED)
        headers["User-Agent"] = "Mozilla/4.0"
        status, _, error = notify.post(d.url, d.body, headers, self._timeout)
        self.log.record(
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
        delay = notify.retry_delay(200 <= status < 300, d.kind, d.attempt, self._retry_delays)
        if delay is not None:
            self._scheduler().after(delay, functools.partial(self.deliver, replace(d, attempt=d.attempt + 1)))
