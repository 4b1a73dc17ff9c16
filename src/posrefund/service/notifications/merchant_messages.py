"""Telling the merchant itself: each step of its device return and of its fee refunds becomes a message to its
registered mobile and email, queued in the same ``notifications`` table as a customer's (no refund case), sent
by the same worker with the same claim / send / record, retries and message ids (``sending.py``).

A step names itself once (``source``, e.g. the return's id and the step): the message id is derived from it,
so a step that is recorded again (a retried request, a second worker) queues nothing new. A channel the
merchant has no address for gets a ``skipped`` row with ``no_contact`` — the step's notice says "not sent",
nothing fails. The step's values are fixed when it happens (amounts in yuan, times in Shanghai time, masked
data only); the worker adds the merchant's name when it renders.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from posrefund.domain.errors import Invalid
from posrefund.domain.events import CaseEvent
from posrefund.domain.merchant_notice import MERCHANT_VARIABLES
from posrefund.domain.notification import Delivery, NotifyChannel, NotifyEvent, message_id
from posrefund.domain.pii import mask_phone, normalise_phone
from posrefund.domain.roles import SYSTEM_ACTOR
from posrefund.ports import MerchantContactRow, NewNotificationRow, NotificationFacts, Notifier, UnitOfWork
from posrefund.service.deps import Deps
from posrefund.service.notifications.templates import render

SHANGHAI = ZoneInfo("Asia/Shanghai")
CHANNELS = (NotifyChannel.SMS.value, NotifyChannel.EMAIL.value)
NO_CONTACT = "no_contact"


class Gateways(Protocol):
    gateways: Any  # Mapping[str, Notifier]: the service's own gateways, per channel


def at_text(moment: datetime) -> str:
    """A time as people in China read it: Shanghai, to the minute."""
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


def _registered_phone(uow: UnitOfWork, merchant_id: str, contact: MerchantContactRow | None) -> tuple[str, str]:
    """(clear, masked) mobile: the contact's own, else the merchant's registered phone if it is a mobile."""
    if contact is not None and contact["phone_enc"]:
        return "", contact["phone_masked"]
    merchant = uow.merchants.get_merchant(merchant_id)
    try:
        phone = normalise_phone(merchant["contact_phone"]) if merchant and merchant["contact_phone"] else ""
    except Invalid:
        phone = ""  # a landline cannot take an SMS
    return phone, mask_phone(phone) if phone else ""


def language_of(uow: UnitOfWork, merchant_id: str) -> str:
    contact = uow.notify_settings.merchant_contact(merchant_id)
    return contact["language"] if contact and contact["language"] in ("zh", "en") else "zh"


def _masked_addresses(uow: UnitOfWork, merchant_id: str) -> dict[str, str]:
    """Channel → masked address ("" where the merchant gave none)."""
    contact = uow.notify_settings.merchant_contact(merchant_id)
    email = contact["email_masked"] if contact and contact["email_enc"] else ""
    return {NotifyChannel.SMS.value: _registered_phone(uow, merchant_id, contact)[1], NotifyChannel.EMAIL.value: email}


def address(deps: Deps, uow: UnitOfWork, merchant_id: str, channel: str) -> str | None:
    """The clear address, decrypted only to send."""
    contact = uow.notify_settings.merchant_contact(merchant_id)
    if channel == NotifyChannel.EMAIL:
        return deps.cipher.decrypt(contact["email_enc"]) if contact and contact["email_enc"] else None
    if contact is not None and contact["phone_enc"]:
        return deps.cipher.decrypt(contact["phone_enc"])
    return _registered_phone(uow, merchant_id, contact)[0] or None


def audit(uow: UnitOfWork, merchant_id: str, action: str, at: datetime, reason: str = "", **data: Any) -> None:
    """A message to the merchant is on the merchant's trail (there is no case to put it on)."""
    uow.audit.append(merchant_id, None, CaseEvent(action, SYSTEM_ACTOR, at, None, None, reason, data))


def audit_skipped(uow: UnitOfWork, n: NotificationFacts, reason: str, now: datetime) -> None:
    audit(
        uow, n["merchant_id"], "notify.skipped", now, reason,
        message_id=n["message_id"], channel=n["channel"], notify_event=n["event"], recipient=n["recipient_masked"],
    )  # fmt: skip


def tell_merchant(
    deps: Deps,
    uow: UnitOfWork,
    merchant_id: str,
    event: NotifyEvent,
    source: str,
    now: datetime,
    params: dict[str, Any],
) -> list[dict[str, str]]:
    """Queue ``event`` for the merchant on SMS and email, in the caller's transaction. Returns, per channel,
    the message id and how it stands (``pending``, or ``skipped`` with ``no_contact``) — for the step's notice.
    The same ``source`` twice queues nothing new."""
    language = language_of(uow, merchant_id)
    out: list[dict[str, str]] = []
    for channel, masked in _masked_addresses(uow, merchant_id).items():
        reason = "" if masked else NO_CONTACT
        row: NewNotificationRow = {
            "id": deps.ids.new_id("ntf"),
            "message_id": message_id(source, channel),
            "merchant_id": merchant_id,
            "case_id": None,
            "event": event.value,
            "channel": channel,
            "language": language,
            "recipient_masked": masked,
            "params": json.dumps(params, ensure_ascii=False, default=str),
            "status": Delivery.SKIPPED.value if reason else Delivery.PENDING.value,
            "attempts": 0,
            "next_attempt_at": None if reason else now,
            "last_error": reason,
            "created_at": now,
        }
        if uow.notifications.add_notification(row) and reason:
            audit_skipped(uow, row, reason, now)
        out.append({"channel": channel, "message_id": row["message_id"], "status": row["status"], "reason": reason})
    return out


def prepare(
    deps: Deps, router: Gateways, uow: UnitOfWork, n: NotificationFacts, params: str, now: datetime
) -> tuple[Notifier, str, str, str] | str:
    """What the worker sends for a merchant's message: (gateway, clear address, subject, text), or why it
    will not go (``no_gateway``, ``no_contact``)."""
    gateway: Notifier | None = router.gateways.get(n["channel"])
    to = address(deps, uow, n["merchant_id"], n["channel"])
    if gateway is None or to is None:
        return "no_gateway" if gateway is None else NO_CONTACT
    merchant = uow.merchants.get_merchant(n["merchant_id"])
    blank = dict.fromkeys(MERCHANT_VARIABLES, "")  # a variable a step does not fill renders empty, never fails
    values = {**blank, **json.loads(params), "merchant_name": merchant["name"] if merchant else ""}
    event = NotifyEvent(n["event"])
    subject, text = render(uow, n["merchant_id"], event, n["language"], values, deps.message_limit)
    return gateway, to, subject, text


def delivery_of(uow: UnitOfWork, messages: list[dict[str, str]]) -> list[dict[str, str]]:
    """How a step's messages stand now (for its notice): channel, message id, status, reason, masked address."""
    rows = {r["message_id"]: r for r in uow.notifications.by_message_ids([m["message_id"] for m in messages])}
    out = []
    for m in messages:
        row = rows.get(m["message_id"])
        status, reason = (row["status"], row["last_error"]) if row else (m["status"], m["reason"])
        recipient = row["recipient_masked"] if row else ""
        out.append({**m, "status": status, "reason": reason, "recipient": recipient})
    return out
