"""Telling the customer: case events in the outbox become notifications, sent by the worker, exactly once.

Two steps, both sweeps over our own tables (the tables are the queue, as for the channel worker):

1. **fan out** — in one transaction, unprocessed ``case.event`` outbox rows become one notification row per
   channel the customer can be reached on (SMS to the phone, WeChat to the openid, email), each with a
   stable message id derived from the event; the outbox rows are marked done. An opted-out customer gets
   a ``skipped`` row and nothing is sent.
2. **deliver** — per notification: *claim* (attempt count +1, status ``sending``, a lease) and commit
   **before** the gateway is called; *send* with the message id; *record* the attempt (time, gateway,
   result, provider id) and its audit event. A crash between send and record leaves a claimed message
   whose lease runs out; it is sent again with the same message id, which the gateway uses to drop the
   repeat. Failures are retried with back-off (``RETRY_BACKOFF``); 4xx-like answers are not retried.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from posrefund.domain.events import CaseEvent
from posrefund.domain.money import format_yuan
from posrefund.domain.notification import (
    SEND_LEASE_SECONDS,
    Delivery,
    NotifyChannel,
    NotifyEvent,
    OutgoingMessage,
    SendResult,
    event_for,
    message_id,
    retry_delay,
    route_name,
    status_name,
)
from posrefund.domain.pii import find_card_data
from posrefund.domain.refund import RefundCase
from posrefund.domain.roles import SYSTEM_ACTOR
from posrefund.ports import (
    ConcurrentUpdate,
    NewNotificationRow,
    NotificationChange,
    NotificationFacts,
    NotificationRow,
    Notifier,
    UnitOfWork,
)
from posrefund.service.deps import Deps
from posrefund.service.notifications import merchant_messages, tracking_links
from posrefund.service.notifications.templates import render
from posrefund.service.provider import returns

# What an event about money other than the refund's own (a deposit's penalty transfer) says in its stead.
SAID_BY_THE_EVENT = ("amount", "paid_at", "account")
GatewayBuilder = Callable[[str, dict[str, Any], str], Notifier]


@dataclass
class NotifyRouter:
    """Where messages go: gateways from the notify file (per channel), per-merchant HTTP gateways built from
    their stored configuration, and the public base URL of tracking links."""

    gateways: Mapping[str, Notifier] = field(default_factory=dict)
    build_gateway: GatewayBuilder | None = None
    public_url: str = "http://127.0.0.1:8000"
    link_days: int = 60
    timezone: str = "Asia/Shanghai"
    _built: dict[tuple[str, str, str], Notifier] = field(default_factory=dict)

    def gateway(self, deps: Deps, uow: UnitOfWork, merchant_id: str, channel: str) -> Notifier | None:
        row = uow.notify_settings.gateway(merchant_id, channel) if channel != NotifyChannel.EMAIL else None
        if row is not None and self.build_gateway is not None:
            key = (merchant_id, channel, str(row["updated_at"]))
            if key not in self._built:
                credential = deps.cipher.decrypt(row["credential_enc"]) if row["credential_enc"] else ""
                self._built[key] = self.build_gateway(channel, json.loads(row["document"]), credential)
            return self._built[key]
        return self.gateways.get(channel)

    def link(self, deps: Deps, case_id: str, now: datetime) -> str:
        token = tracking_links.sign(deps.secret_key, case_id, now + timedelta(days=self.link_days))
        return f"{self.public_url.rstrip('/')}/t/{token}"


def _audit(
    uow: UnitOfWork, case: RefundCase | None, n: NotificationFacts, action: str, at: datetime, reason: str, **data: Any
) -> None:
    """On the case's trail, or the merchant's for a message to the merchant itself."""
    if case is None:
        merchant_messages.audit(uow, n["merchant_id"], action, at, reason, **data)
        return
    event = CaseEvent(action, SYSTEM_ACTOR, at, case.status.value, case.status.value, reason, data)
    uow.audit.append(case.merchant_id, case.id, event)


def _audit_skipped(uow: UnitOfWork, case: RefundCase | None, n: NotificationFacts, reason: str, now: datetime) -> None:
    """A message that will not go out (no address, opted out, refused for good), said on the case's trail."""
    _audit(
        uow,
        case,
        n,
        "notify.skipped",
        now,
        reason,
        message_id=n["message_id"],
        channel=n["channel"],
        notify_event=n["event"],
        recipient=n["recipient_masked"],
    )


def _targets(deps: Deps, uow: UnitOfWork, case: RefundCase) -> tuple[list[tuple[str, str]], str, bool]:
    """(channel, masked address) the customer can be reached on, their language, and whether they opted out."""
    contact = uow.contacts.contact(case.id)
    customer = uow.refunds.customer(case.id)
    out: list[tuple[str, str]] = []
    if customer.phone_enc:
        out.append((NotifyChannel.SMS.value, customer.phone_masked))
    if contact and contact["wechat_openid_enc"]:
        out.append((NotifyChannel.WECHAT.value, contact["wechat_openid_masked"]))
    if contact and contact["email_enc"]:
        out.append((NotifyChannel.EMAIL.value, contact["email_masked"]))
    opted = bool(contact and contact["opted_out"]) or bool(
        customer.phone_index and uow.contacts.phone_opted_out(case.merchant_id, customer.phone_index)
    )
    return out, (contact["language"] if contact else "") or "zh", opted


def schedule(
    deps: Deps,
    uow: UnitOfWork,
    case: RefundCase,
    event: NotifyEvent,
    source: str,
    now: datetime,
    params: dict[str, Any] | None = None,
) -> int:
    """Queue ``event`` for the customer on every channel they can be reached on, inside the caller's
    transaction. ``source`` names the event once and for all (outbox row, dispute…): scheduling the same
    source twice adds nothing. Whether a gateway is configured is decided when it is sent. Returns how many
    messages were queued."""
    targets, language, opted = _targets(deps, uow, case)
    queued = 0
    for channel, masked in targets:
        reason = "opted_out" if opted else ""
        row: NewNotificationRow = {
            "id": deps.ids.new_id("ntf"),
            "message_id": message_id(source, channel),
            "merchant_id": case.merchant_id,
            "case_id": case.id,
            "event": event.value,
            "channel": channel,
            "language": language,
            "recipient_masked": masked,
            "params": json.dumps(params or {}, ensure_ascii=False),
            "status": Delivery.SKIPPED.value if reason else Delivery.PENDING.value,
            "attempts": 0,
            "next_attempt_at": None if reason else now,
            "last_error": reason,
            "created_at": now,
        }
        if not uow.notifications.add_notification(row):
            continue
        if reason:
            _audit_skipped(uow, case, row, reason, now)
        else:
            queued += 1
    return queued


def fan_out(deps: Deps, router: NotifyRouter, limit: int = 200) -> int:
    """Turn unprocessed case events into notifications. Returns how many events were processed."""
    now = deps.clock.now()
    with deps.uow() as uow:
        rows = uow.notifications.pending_case_events(now, limit)
        cases: dict[str, RefundCase | None] = {}
        for row in rows:
            payload = json.loads(row["payload"])
            event = event_for(str(payload.get("action", "")), payload.get("status"))
            case_id = row["case_id"]
            if event is None or case_id is None:
                continue
            if case_id not in cases:
                cases[case_id] = uow.refunds.get_case(row["merchant_id"], case_id)
            case = cases[case_id]
            if case is not None:
                schedule(deps, uow, case, event, f"ev{int(row['id']):010d}", now)
                if event is NotifyEvent.PAID:
                    returns.tell_refund_paid(deps, uow, case, now)
        uow.notifications.mark_events_done([int(r["id"]) for r in rows], now)
        uow.commit()
    return len(rows)


def _values(
    deps: Deps,
    router: NotifyRouter,
    uow: UnitOfWork,
    case: RefundCase,
    language: str,
    params: dict[str, Any],
    now: datetime,
) -> dict[str, Any]:
    merchant = uow.merchants.get_merchant(case.merchant_id)
    sale = uow.sales.get_sale(case.merchant_id, case.sale_id)
    tz = ZoneInfo(router.timezone)
    paid = case.succeeded_at.astimezone(tz).strftime("%Y-%m-%d %H:%M") if case.succeeded_at else ""
    return {
        "merchant_name": merchant["name"] if merchant else "",
        "merchant_phone": merchant["contact_phone"] if merchant else "",
        "refund_no": case.refund_no,
        "amount": format_yuan(case.amount_fen, case.currency),
        "status_text": status_name(case.status.value, language),
        "route": route_name(case.channel, case.method, language),
        "paid_at": paid,
        "expected_arrival": case.expected_arrival.isoformat() if case.expected_arrival else "",
        "reason": str(params.get("reason") or case.review_reason),
        "payer": sale.payer_masked if sale else "",
        "phone": uow.refunds.customer(case.id).phone_masked,
        "link": router.link(deps, case.id, now),
        "account": "",
        **{k: str(params[k]) for k in SAID_BY_THE_EVENT if k in params},
    }


def _address(deps: Deps, uow: UnitOfWork, case_id: str, channel: str) -> str | None:
    if channel == NotifyChannel.SMS:
        enc = uow.refunds.customer(case_id).phone_enc
    else:
        contact = uow.contacts.contact(case_id)
        if contact is None:
            return None
        enc = contact["email_enc"] if channel == NotifyChannel.EMAIL else contact["wechat_openid_enc"]
    return deps.cipher.decrypt(enc) if enc else None


@dataclass(frozen=True)
class _Claim:
    notification: NotificationRow
    case: RefundCase | None  # None: a message to the merchant itself
    message: OutgoingMessage
    gateway: Notifier
    attempt: int


def _finish(
    uow: UnitOfWork, case: RefundCase | None, n: NotificationRow, status: Delivery, reason: str, now: datetime
) -> None:
    uow.notifications.update_notification(
        n["id"], int(n["attempts"]), {"status": status.value, "last_error": reason, "next_attempt_at": None}
    )
    _audit_skipped(uow, case, n, reason, now)


def _for_customer(
    deps: Deps, router: NotifyRouter, uow: UnitOfWork, case: RefundCase, n: NotificationRow, now: datetime
) -> tuple[Notifier, str, str, str] | str:
    """(gateway, clear address, subject, text) of a customer's message, or why it will not go."""
    _targets_now, _lang, opted = _targets(deps, uow, case)
    gateway = router.gateway(deps, uow, case.merchant_id, n["channel"])
    address = _address(deps, uow, case.id, n["channel"])
    if opted or gateway is None or address is None:
        return "opted_out" if opted else "no_gateway" if gateway is None else "no_address"
    event = NotifyEvent(n["event"])
    values = _values(deps, router, uow, case, n["language"], json.loads(n["params"]), now)
    subject, text = render(uow, case.merchant_id, event, n["language"], values, deps.message_limit)
    return gateway, address, subject, text


def _claim(deps: Deps, router: NotifyRouter, notification_id: str) -> _Claim | None:
    now = deps.clock.now()
    with deps.uow() as uow:
        n = uow.notifications.get_notification(notification_id)
        if n is None or n["status"] not in (Delivery.PENDING, Delivery.SENDING):
            return None
        if n["next_attempt_at"] is None or n["next_attempt_at"] > now:
            return None  # another worker holds the lease, or it is not yet time to retry
        case = None
        if n["case_id"] is None:
            ready = merchant_messages.prepare(deps, router, uow, n, n["params"], now)
        else:
            case = uow.refunds.get_case(n["merchant_id"], n["case_id"])
            assert case is not None
            ready = _for_customer(deps, router, uow, case, n, now)
        if isinstance(ready, str) or find_card_data(ready[2]) or find_card_data(ready[3]):
            skipped = isinstance(ready, str)
            reason = ready if isinstance(ready, str) else "card_number_in_text"
            _finish(uow, case, n, Delivery.SKIPPED if skipped else Delivery.FAILED, reason, now)
            uow.commit()
            return None
        gateway, address, subject, text = ready
        attempt = int(n["attempts"]) + 1
        claimed = uow.notifications.update_notification(
            n["id"],
            int(n["attempts"]),
            {
                "attempts": attempt,
                "status": Delivery.SENDING.value,
                "next_attempt_at": now + timedelta(seconds=SEND_LEASE_SECONDS),
            },
        )
        if not claimed:
            return None  # another worker claimed this try first
        uow.commit()
    msg = OutgoingMessage(n["message_id"], n["channel"], address, subject, text, n["language"], n["event"])
    return _Claim(n, case, msg, gateway, attempt)


def _record(deps: Deps, claim: _Claim, result: SendResult) -> None:
    now = deps.clock.now()
    n = claim.notification
    delay = retry_delay(claim.attempt)
    outcome = "sent" if result.ok else "retry" if result.retryable and delay is not None else "failed"
    with deps.uow() as uow:
        uow.notifications.add_attempt(
            {
                "notification_id": n["id"],
                "at": now,
                "gateway": result.gateway[:64],
                "result": outcome,
                "provider_message_id": result.provider_message_id[:128],
                "error": result.error[:300],
            }
        )
        values: NotificationChange
        if result.ok:
            values = {
                "status": Delivery.SENT.value,
                "sent_at": now,
                "next_attempt_at": None,
                "provider_message_id": result.provider_message_id[:128],
                "last_error": "",
            }
        elif outcome == "retry" and delay is not None:
            values = {
                "status": Delivery.PENDING.value,
                "next_attempt_at": now + timedelta(seconds=delay),
                "last_error": result.error[:300],
            }
        else:
            values = {"status": Delivery.FAILED.value, "next_attempt_at": None, "last_error": result.error[:300]}
        current = uow.notifications.get_notification(n["id"])
        if current is not None and current["status"] != Delivery.SENT and int(current["attempts"]) == claim.attempt:
            uow.notifications.update_notification(n["id"], claim.attempt, values)
        _audit(
            uow,
            claim.case,
            n,
            "notify.attempt",
            now,
            result.error[:200],
            message_id=n["message_id"],
            notify_event=n["event"],
            channel=n["channel"],
            recipient=n["recipient_masked"],
            gateway=result.gateway,
            result=outcome,
            provider_message_id=result.provider_message_id,
            attempt=claim.attempt,
        )
        deps.failpoint("notify.before_record_commit")
        uow.commit()


def deliver(deps: Deps, router: NotifyRouter, notification_id: str) -> bool:
    """Claim, send and record one notification. True when a gateway was called."""
    claim = _claim(deps, router, notification_id)
    if claim is None:
        return False
    deps.failpoint("notify.before_send")
    try:
        result = claim.gateway.send(claim.message)
    except Exception as exc:  # a gateway must not raise; if one does, it counts as a retryable failure
        result = SendResult(False, getattr(claim.gateway, "name", "?"), retryable=True, error=type(exc).__name__)
    deps.failpoint("notify.after_send")
    _record(deps, claim, result)
    return True


def sweep(deps: Deps, router: NotifyRouter, limit: int = 100) -> int:
    """One round for the worker: fan out new case events, then send what is due. Returns work done."""
    events = fan_out(deps, router)
    with deps.uow(readonly=True) as uow:
        due = uow.notifications.due_notifications(deps.clock.now(), limit)
    sent = 0
    for notification_id in due:
        try:
            sent += deliver(deps, router, notification_id)
        except ConcurrentUpdate:
            continue
    return events + sent
