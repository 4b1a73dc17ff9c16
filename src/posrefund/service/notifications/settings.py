"""Setting up notifications: a case's contact addresses and opt-out, the merchant's templates and
HTTP gateways, and reading what was sent. Every change is an audit event."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from posrefund.domain.errors import Invalid, NotFound
from posrefund.domain.notification import LANGUAGES, NotifyEvent
from posrefund.domain.pii import refuse_card_data
from posrefund.domain.refund import RefundCase
from posrefund.domain.roles import Actor
from posrefund.ports import AttemptRow, ContactRow, ContactSettings, UnitOfWork
from posrefund.service.deps import Deps
from posrefund.service.notifications import templates as notification_templates
from posrefund.service.records import record, record_on_case

EMAIL_FORMAT = re.compile(r"^[^@\s]{1,64}@[A-Za-z0-9.-]{1,190}\.[A-Za-z]{2,24}$")
_OPENID = re.compile(r"^[A-Za-z0-9_-]{6,64}$")
GATEWAY_KINDS = ("sms", "wechat")
# Our side of a gateway's payload mapping: a provider field takes one of these, or a literal "=text".
MESSAGE_FIELDS = frozenset({"to", "text", "subject", "message_id", "language", "event"})


def load_case(uow: UnitOfWork, actor: Actor, case_id: str) -> RefundCase:
    """The case, if it is this merchant's (and this terminal's); otherwise 404 as if it did not exist."""
    case = uow.refunds.get_case(actor.merchant_id or "", case_id)
    if case is None or (actor.terminal_id is not None and case.terminal_id != actor.terminal_id):
        raise NotFound("refund.not_found")
    return case


def mask_email(email: str) -> str:
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"


def mask_openid(openid: str) -> str:
    return f"{openid[:3]}***{openid[-3:]}"


@dataclass(frozen=True)
class ContactInput:
    language: str | None = None
    email: str | None = None
    wechat_openid: str | None = None
    opted_out: bool | None = None


def set_contact(deps: Deps, actor: Actor, case_id: str, inp: ContactInput) -> dict[str, Any]:
    """Where and in which language the customer wants to hear about this case (email, WeChat openid);
    the phone comes from the refund request. Addresses are encrypted; only masks are readable."""
    actor.require("notify.contact")
    if inp.language is not None and inp.language not in LANGUAGES:
        raise Invalid("notify.unknown_language", language=inp.language)
    email = inp.email.strip() if inp.email else None
    if email and not EMAIL_FORMAT.fullmatch(email):
        raise Invalid("notify.invalid_email")
    openid = inp.wechat_openid.strip() if inp.wechat_openid else None
    if openid and not _OPENID.fullmatch(openid):
        raise Invalid("notify.invalid_openid")
    now = deps.clock.now()
    with deps.uow() as uow:
        case = load_case(uow, actor, case_id)
        row = contact_row(uow, case, now)
        changed: list[str] = []
        if inp.language is not None:
            row["language"] = inp.language
            changed.append("language")
        if email is not None:
            row["email_enc"], row["email_masked"] = deps.cipher.encrypt(email), mask_email(email)
            changed.append("email")
        if openid is not None:
            row["wechat_openid_enc"], row["wechat_openid_masked"] = deps.cipher.encrypt(openid), mask_openid(openid)
            changed.append("wechat_openid")
        if inp.opted_out is not None:
            row["opted_out"] = inp.opted_out
            changed.append("opted_out")
        row["updated_at"] = now
        uow.contacts.put_contact(row)
        record_on_case(
            uow,
            actor,
            case,
            "notify.contact_changed",
            now,
            fields=changed,
            opted_out=bool(row["opted_out"]),
        )
        uow.commit()
    return contact_view(row, uow_phone=None)


def contact_view(row: ContactSettings, uow_phone: str | None) -> dict[str, Any]:
    return {
        "language": row["language"],
        "email": row["email_masked"] or None,
        "wechat_openid": row["wechat_openid_masked"] or None,
        "opted_out": bool(row["opted_out"]),
        **({"phone": uow_phone} if uow_phone is not None else {}),
    }


def opt_out(deps: Deps, actor: Actor, case_id: str, scope: str, source: str = "staff") -> None:
    """Stop messages: for this case, or (``scope="customer"``) for every case of the same phone number."""
    actor.require("notify.contact")
    if scope not in ("case", "customer"):
        raise Invalid("notify.invalid_scope", scope=scope)
    now = deps.clock.now()
    with deps.uow() as uow:
        case = load_case(uow, actor, case_id)
        apply_opt_out(uow, actor, case, scope, source, now)
        uow.commit()


def contact_row(uow: UnitOfWork, case: RefundCase, now: datetime) -> ContactRow:
    """The case's notification contact as stored, or the default one (Chinese, no address, not opted out)."""
    return uow.contacts.contact(case.id) or {
        "case_id": case.id,
        "merchant_id": case.merchant_id,
        "language": "zh",
        "email_enc": None,
        "email_masked": "",
        "wechat_openid_enc": None,
        "wechat_openid_masked": "",
        "opted_out": False,
        "updated_at": now,
    }


def apply_opt_out(uow: UnitOfWork, actor: Actor, case: RefundCase, scope: str, source: str, now: datetime) -> None:
    """Stop messages for the case (and, for scope ``customer``, every case of its phone number); audited."""
    row = contact_row(uow, case, now)
    row["opted_out"] = True
    row["updated_at"] = now
    uow.contacts.put_contact(row)
    if scope == "customer":
        phone_index = uow.refunds.customer(case.id).phone_index
        if phone_index:
            uow.contacts.put_phone_optout(case.merchant_id, phone_index, source, now)
    record_on_case(
        uow,
        actor,
        case,
        "notify.opted_out",
        now,
        scope=scope,
        source=source,
    )


def case_notifications(deps: Deps, actor: Actor, case_id: str) -> dict[str, Any]:
    """What the customer was sent for this case, each message with every attempt."""
    actor.require("notify.read")
    with deps.uow(readonly=True) as uow:
        case = load_case(uow, actor, case_id)
        rows = uow.notifications.notifications_for(case.id)
        attempts = uow.notifications.attempts_for([r["id"] for r in rows])
        contact = uow.contacts.contact(case.id)
        phone = uow.refunds.customer(case.id).phone_masked
    by_id: dict[str, list[AttemptRow]] = {}
    for a in attempts:
        by_id.setdefault(a["notification_id"], []).append(a)
    items = [{**r, "attempt_log": by_id.get(r["id"], []), "params": json.loads(r["params"])} for r in rows]
    base: ContactSettings = contact or {
        "language": "zh",
        "email_masked": "",
        "wechat_openid_masked": "",
        "opted_out": False,
    }
    return {"contact": contact_view(base, phone or ""), "items": items}


def list_templates(deps: Deps, actor: Actor) -> list[dict[str, Any]]:
    """Every event × language: the merchant's own template where there is one, else the default."""
    actor.require("notify.read")
    with deps.uow(readonly=True) as uow:
        own = {(r["event"], r["language"]): r for r in uow.notify_settings.templates(actor.merchant_id or "")}
    out = []
    for event in NotifyEvent:
        for lang in LANGUAGES:
            mine = own.get((event.value, lang))
            subject, body = (
                (mine["subject"], mine["body"]) if mine else notification_templates.default_template(event, lang)
            )
            out.append(
                {"event": event.value, "language": lang, "subject": subject, "body": body, "custom": mine is not None}
            )
    return out


def put_template(deps: Deps, actor: Actor, event: str, language: str, subject: str, body: str) -> dict[str, Any]:
    actor.require("notify.configure")
    ev, lang = notification_templates.validate(event, language, subject, body, deps.message_limit)
    now = deps.clock.now()
    with deps.uow() as uow:
        uow.notify_settings.put_template(
            {
                "merchant_id": actor.merchant_id or "",
                "event": ev.value,
                "language": lang,
                "subject": subject,
                "body": body,
                "updated_by": actor.id,
                "updated_at": now,
            }
        )
        record(uow, actor, actor.merchant_id, "notify.template_changed", now, notify_event=ev.value, language=lang)
        uow.commit()
    return {"event": ev.value, "language": lang, "subject": subject, "body": body, "custom": True}


def reset_template(deps: Deps, actor: Actor, event: str, language: str) -> None:
    actor.require("notify.configure")
    try:
        ev = NotifyEvent(event)
    except ValueError:
        raise NotFound("notify.template_not_found") from None
    now = deps.clock.now()
    with deps.uow() as uow:
        if not uow.notify_settings.delete_template(actor.merchant_id or "", ev.value, language):
            raise NotFound("notify.template_not_found")
        record(uow, actor, actor.merchant_id, "notify.template_reset", now, notify_event=ev.value, language=language)
        uow.commit()


def validate_gateway(kind: str, doc: dict[str, Any]) -> None:
    """A provider is a URL, a credential and a payload mapping (provider field → our field or "=literal")."""
    if kind not in GATEWAY_KINDS:
        raise Invalid("notify.unknown_gateway_kind", kind=kind)
    url = str(doc.get("url", ""))
    if not re.match(r"^https?://[^\s/]+", url):
        raise Invalid("notify.invalid_gateway", detail="url must be http(s)")
    payload = doc.get("payload") or {}
    if not isinstance(payload, dict) or not payload:
        raise Invalid("notify.invalid_gateway", detail="payload mapping is empty")
    for provider_field, ours in payload.items():
        if not isinstance(ours, str) or not provider_field:
            raise Invalid("notify.invalid_gateway", detail=f"payload.{provider_field}")
        if not ours.startswith("=") and ours not in MESSAGE_FIELDS:
            raise Invalid("notify.invalid_gateway", detail=f"payload.{provider_field}: unknown field {ours}")
        refuse_card_data(ours, f"payload.{provider_field}")
    if "to" not in payload.values() or "text" not in payload.values():
        raise Invalid("notify.invalid_gateway", detail="payload must map 'to' and 'text'")


def put_gateway(deps: Deps, actor: Actor, kind: str, doc: dict[str, Any], credential: str | None) -> dict[str, Any]:
    actor.require("notify.configure")
    validate_gateway(kind, doc)
    now = deps.clock.now()
    with deps.uow() as uow:
        old = uow.notify_settings.gateway(actor.merchant_id or "", kind)
        enc = deps.cipher.encrypt(credential) if credential else (old["credential_enc"] if old else None)
        uow.notify_settings.put_gateway(
            {
                "merchant_id": actor.merchant_id or "",
                "kind": kind,
                "document": json.dumps(doc, ensure_ascii=False, sort_keys=True),
                "credential_enc": enc,
                "updated_by": actor.id,
                "updated_at": now,
            }
        )
        record(
            uow,
            actor,
            actor.merchant_id,
            "notify.gateway_changed",
            now,
            kind=kind,
            url=doc.get("url"),
            credential_changed=bool(credential),
        )
        uow.commit()
    return gateway_view(kind, doc, enc is not None)


def gateway_view(kind: str, doc: dict[str, Any], has_credential: bool) -> dict[str, Any]:
    return {"kind": kind, **doc, "credential_set": has_credential}


def list_gateways(deps: Deps, actor: Actor) -> list[dict[str, Any]]:
    actor.require("notify.configure")
    with deps.uow(readonly=True) as uow:
        rows = uow.notify_settings.gateways(actor.merchant_id or "")
    return [gateway_view(r["kind"], json.loads(r["document"]), r["credential_enc"] is not None) for r in rows]


def own_messages(deps: Deps, actor: Actor, message_ids: Sequence[str]) -> dict[str, dict[str, str]]:
    """Of the message ids a gateway received, this merchant's, with their event, language and case (``case_id``,
    ``refund_no``; empty for a message to the merchant itself): a gateway several merchants share shows
    each of them only its own customers' messages."""
    actor.require("notify.read")
    out: dict[str, dict[str, str]] = {}
    with deps.uow(readonly=True) as uow:
        for row in uow.notifications.by_message_ids(list(message_ids)):
            if row["merchant_id"] != actor.merchant_id:
                continue
            case = uow.refunds.get_case(row["merchant_id"], row["case_id"]) if row["case_id"] else None
            out[row["message_id"]] = {
                "event": row["event"],
                "language": row["language"],
                "case_id": case.id if case else "",
                "refund_no": case.refund_no if case else "",
            }
    return out
