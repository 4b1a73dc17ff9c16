"""Sending the refund-cause summaries to the managers who subscribed (a subscription per user: weekly or
monthly, some stores or all, an email address kept encrypted).

The worker calls ``deliver_due`` every few minutes. For each subscription the period due is the last whole
week or month in Asia/Shanghai; a delivery row (subscription, period) is **claimed in its own committed
transaction before** the mail is sent — its primary key lets one worker in, so two workers never send the
same summary, and a summary sent is never sent again. A send that failed (or whose worker died: the claim goes
stale) is taken over later, a few times at most, with the same ``Message-ID``."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import timedelta

import structlog

from posrefund.domain.cause_rules import last_complete
from posrefund.domain.errors import Invalid, NotFound
from posrefund.domain.roles import PERMISSIONS, SYSTEM_ACTOR, Actor, Role
from posrefund.ports.documents import Attachment, DeliveryRow, DocumentMail, DocumentMailer, SubscriptionRow
from posrefund.service.deps import Deps
from posrefund.service.documents.html import document_page
from posrefund.service.documents.summary import Summary, build
from posrefund.service.documents.summary_document import summary_document, title_of
from posrefund.service.notifications.settings import mask_email
from posrefund.service.records import record

log = structlog.get_logger("posrefund.documents")
CADENCES = ("weekly", "monthly")
_EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]{1,190}\.[^@\s]{2,63}")
STALE_CLAIM = timedelta(minutes=30)  # a claim this old without an answer: its worker died
MAX_ATTEMPTS = 5


@dataclass(frozen=True, slots=True)
class SubscriptionInput:
    cadence: str
    email: str
    store_ids: tuple[str, ...] = ()
    language: str = "zh"


def subscribe(deps: Deps, actor: Actor, sub: SubscriptionInput) -> SubscriptionRow:
    actor.require("summary.subscribe")
    if sub.cadence not in CADENCES:
        raise Invalid("summary.bad_cadence")
    email = sub.email.strip()
    if not _EMAIL.fullmatch(email):
        raise Invalid("summary.bad_email")
    merchant_id = actor.merchant_id or ""
    now = deps.clock.now()
    with deps.uow() as uow:
        stores = {s["id"] for s in uow.merchants.list_stores(merchant_id)}
        if any(s not in stores for s in sub.store_ids):
            raise NotFound("store.not_found")
        row: SubscriptionRow = {
            "id": deps.ids.new_id("sub"),
            "merchant_id": merchant_id,
            "user_id": actor.id,
            "cadence": sub.cadence,
            "store_ids": json.dumps(sorted(set(sub.store_ids))),
            "email_enc": deps.cipher.encrypt(email),
            "email_masked": mask_email(email),
            "language": "en" if sub.language == "en" else "zh",
            "active": True,
            "created_at": now,
            "updated_at": now,
        }
        uow.summaries.put_subscription(row)
        record(uow, actor, merchant_id, "summary.subscribed", now, cadence=sub.cadence, stores=list(sub.store_ids))
        uow.commit()
    return row


def unsubscribe(deps: Deps, actor: Actor, cadence: str) -> None:
    actor.require("summary.subscribe")
    now = deps.clock.now()
    with deps.uow() as uow:
        if not uow.summaries.end_subscription(actor.merchant_id or "", actor.id, cadence, now):
            raise NotFound("summary.subscription_not_found")
        record(uow, actor, actor.merchant_id, "summary.unsubscribed", now, cadence=cadence)
        uow.commit()


def my_subscriptions(deps: Deps, actor: Actor) -> list[SubscriptionRow]:
    actor.require("summary.subscribe")
    with deps.uow(readonly=True) as uow:
        found = (uow.summaries.subscription_of(actor.merchant_id or "", actor.id, c) for c in CADENCES)
        return [row for row in found if row is not None]


def _still_allowed(deps: Deps, sub: SubscriptionRow) -> bool:
    """The subscriber must still be an active member of the merchant whose role may read the reports."""
    with deps.uow(readonly=True) as uow:
        user = uow.users.get_user(sub["user_id"])
    if user is None or not user["active"] or user["merchant_id"] != sub["merchant_id"]:
        return False
    return Role(user["role"]) in PERMISSIONS["report.read"]


def _claim(deps: Deps, sub: SubscriptionRow, key: str) -> bool:
    now = deps.clock.now()
    row: DeliveryRow = {
        "subscription_id": sub["id"],
        "period_key": key,
        "merchant_id": sub["merchant_id"],
        "status": "claimed",
        "claimed_at": now,
        "sent_at": None,
        "attempts": 1,
        "error": "",
        "message_id": f"prs-{sub['id']}-{key}",
    }
    with deps.uow() as uow:
        taken = uow.summaries.claim_delivery(row, now - STALE_CLAIM, MAX_ATTEMPTS)
        uow.commit()
    return taken


def summary_mail(deps: Deps, summary: Summary, to: str, message_id: str) -> DocumentMail:
    """The summary as an email: the HTML page as its body, the PDF attached, a plain-text line for old readers."""
    doc = summary_document(summary, deps.clock.now())
    attachments: tuple[Attachment, ...] = ()
    if deps.pdf is not None:
        name = f"refund-causes-{summary.period_key}.pdf"
        attachments = (Attachment(name, deps.pdf.render(doc)),)
    text = f"{title_of(summary)}：退款 {summary.total.refunds} 笔，详见附件 PDF。"
    return DocumentMail(to, title_of(summary), text, document_page(doc), attachments, message_id)


def _send_one(deps: Deps, mailer: DocumentMailer, sub: SubscriptionRow, key: str, cache: dict[str, Summary]) -> bool:
    stores = tuple(json.loads(sub["store_ids"]))
    cache_key = f"{sub['merchant_id']}|{key}|{','.join(stores)}"
    if cache_key not in cache:
        cache[cache_key] = build(deps, sub["merchant_id"], key, stores)
    mail = summary_mail(deps, cache[cache_key], deps.cipher.decrypt(sub["email_enc"]), f"prs-{sub['id']}-{key}")
    result = mailer.send_document(mail)
    now = deps.clock.now()
    with deps.uow() as uow:
        uow.summaries.finish_delivery(sub["id"], key, result.ok, result.error, now)
        action = "summary.sent" if result.ok else "summary.send_failed"
        record(uow, SYSTEM_ACTOR, sub["merchant_id"], action, now, period=key, to=sub["email_masked"])
        uow.commit()
    return result.ok


def deliver_due(deps: Deps, mailer: DocumentMailer, merchant_id: str | None = None) -> int:
    """Send every subscription's summary of its last whole period that has not gone out; how many were sent."""
    today = deps.local_date(deps.clock.now())
    sent = 0
    cache: dict[str, Summary] = {}
    for cadence in CADENCES:
        key = last_complete(cadence, today)
        with deps.uow(readonly=True) as uow:
            subs = uow.summaries.subscriptions(merchant_id, cadence)
        for sub in subs:
            if not _still_allowed(deps, sub) or not _claim(deps, sub, key):
                continue
            try:
                sent += _send_one(deps, mailer, sub, key, cache)
            except Exception as exc:  # one merchant's failure must not stop the others' summaries
                log.exception("summary.failed", subscription=sub["id"], period=key)
                with deps.uow() as uow:
                    uow.summaries.finish_delivery(sub["id"], key, False, type(exc).__name__, deps.clock.now())
                    uow.commit()
    return sent
