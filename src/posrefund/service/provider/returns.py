"""Device returns (退机): opened by the merchant (or the provider's customer service for it) inside the 7-day
window or for a fault under warranty, with every document; shipping approved, the device received and
inspected, then decided within 3 Chinese working days — a refund through the refund core, a replacement, or
a rejection. Every step is audited on the merchant's trail and told to the merchant."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from posrefund.domain import device_return as dr
from posrefund.domain.device_return import ReturnReason, ReturnStatus, TerminalState
from posrefund.domain.errors import Conflict, Invalid, NotFound
from posrefund.domain.free_text import free_text
from posrefund.domain.merchant_notice import INSPECTION_NAMES, name_in
from posrefund.domain.money import format_yuan
from posrefund.domain.notification import NotifyEvent, message_id
from posrefund.domain.refund import RefundCase
from posrefund.domain.roles import Actor
from posrefund.ports import UnitOfWork
from posrefund.ports.provider import DeviceRow, NoticeRow, ReturnRow
from posrefund.service.deps import Deps
from posrefund.service.notifications import merchant_messages
from posrefund.service.provider.desk import Scope, device_by_sn, scope_of
from posrefund.service.records import record


@dataclass(frozen=True)
class OpenInput:
    sn: str
    reason: str
    document_ids: tuple[str, ...]
    fault_note: str = ""
    refund_to_other_account: bool = False


def tell(uow: UnitOfWork, ret: ReturnRow, kind: str, now: datetime, audience: str = "merchant", **params: Any) -> None:
    """A notice of the step for the merchant (or the provider's administrators): the provider's own record;
    a merchant's notice names the messages it was sent (``messages``: channel, message id)."""
    row: NoticeRow = {
        "provider_id": ret["provider_id"],
        "merchant_id": ret["merchant_id"],
        "audience": audience,
        "return_id": ret["id"],
        "kind": kind,
        "params": json.dumps(params, ensure_ascii=False, default=str),
        "created_at": now,
    }
    uow.provider.add_notice(row)


def tell_step(
    deps: Deps,
    uow: UnitOfWork,
    ret: ReturnRow,
    kind: str,
    event: NotifyEvent,
    now: datetime,
    shown: dict[str, Any] | None = None,
    **params: Any,
) -> None:
    """A step the merchant hears about: messages to its mobile and email through the notification outbox
    (once per return and step, whatever retries), and the notice that records them. The template's values
    are fixed now: the SN, Shanghai time, ``params`` and, over them, ``shown`` (words, amounts in yuan)."""
    device = uow.provider.device(ret["provider_id"], ret["device_id"])
    sn = device["sn"] if device else ""
    fixed = {"sn": sn, "at": merchant_messages.at_text(now), **params, **(shown or {})}
    sent = merchant_messages.tell_merchant(deps, uow, ret["merchant_id"], event, f"{ret['id']}-{kind}", now, fixed)
    messages = [{"channel": m["channel"], "message_id": m["message_id"]} for m in sent]
    tell(uow, ret, kind, now, **{"sn": sn, **params, "messages": messages})


def tell_refund_paid(deps: Deps, uow: UnitOfWork, case: RefundCase, now: datetime) -> None:
    """The refund of a device return was paid (seen by the notification worker in the case's events): the
    merchant hears it once, however many events say so."""
    ret = uow.provider.return_by_case(case.id)
    if ret is None or uow.notifications.by_message_ids([message_id(f"{ret['id']}-refund_paid", "sms")]):
        return
    shown = {"amount": format_yuan(case.amount_fen, case.currency)}
    if case.succeeded_at is not None:
        shown["at"] = merchant_messages.at_text(case.succeeded_at)
    tell_step(deps, uow, ret, "refund_paid", NotifyEvent.RETURN_REFUND_PAID, now, shown, refund_fen=case.amount_fen)


def documents_of(uow: UnitOfWork, merchant_id: str, ids: tuple[str, ...] | list[str]) -> list[dict[str, str]]:
    rows = uow.evidence.evidence_rows(merchant_id, ids)
    if len(rows) != len(set(ids)):
        raise Invalid("evidence.not_found")
    return [{"kind": str(r["kind"]), "evidence_id": str(r["id"])} for r in rows]


def open_return(deps: Deps, actor: Actor, inp: OpenInput) -> ReturnRow:
    actor.require("device_return.open")
    try:
        reason = ReturnReason(inp.reason)
    except ValueError:
        raise Invalid("device_return.invalid_reason", reason=inp.reason) from None
    note = free_text(inp.fault_note, "fault_note", limit=2000, required=reason is ReturnReason.FAULT)
    now = deps.clock.now()
    with deps.uow() as uow:
        scope = scope_of(uow, actor)
        device = device_by_sn(uow, scope, inp.sn)
        dr.check_returnable(TerminalState(device["state"]))
        dr.check_window(device["signed_on"], deps.local_date(now), reason, device["warranty_months"])
        docs = documents_of(uow, device["merchant_id"], inp.document_ids)
        missing = dr.missing_documents((d["kind"] for d in docs), inp.refund_to_other_account)
        if missing:
            raise Invalid("device_return.documents_missing", missing=missing)
        row = _new_return(deps, actor, device, reason, note, inp.refund_to_other_account, docs, now)
        uow.provider.add_return(row)
        move_device(uow, device, TerminalState.RETURN_OPEN, now)
        audit(uow, actor, row, "device_return.opened", None, now, sn=device["sn"], reason=reason.value)
        tell_step(deps, uow, row, "opened", NotifyEvent.RETURN_OPENED, now)
        uow.commit()
    return row


def _new_return(
    deps: Deps,
    actor: Actor,
    device: DeviceRow,
    reason: ReturnReason,
    note: str,
    other_account: bool,
    docs: list[dict[str, str]],
    now: datetime,
) -> ReturnRow:
    return {
        "id": deps.ids.new_id("ret"),
        "provider_id": device["provider_id"],
        "merchant_id": device["merchant_id"],
        "device_id": device["id"],
        "status": ReturnStatus.OPENED.value,
        "reason": reason.value,
        "fault_note": note,
        "refund_to_other_account": other_account,
        "documents": json.dumps(docs),
        "opened_by": actor.id,
        "opened_at": now,
        "ship_address": "",
        "courier": "",
        "tracking_no": "",
        "shipping_approved_at": None,
        "received_at": None,
        "inspection": "",
        "inspection_note": "",
        "due_on": None,
        "escalated_at": None,
        "breached_at": None,
        "decision": "",
        "decision_reason": "",
        "deductions": "[]",
        "refund_fen": 0,
        "refund_case_id": None,
        "replacement_id": None,
        "decided_by": "",
        "decided_at": None,
        "version": 1,
        "updated_at": now,
    }


def audit(
    uow: UnitOfWork, actor: Actor, ret: ReturnRow, action: str, after: str | None, now: datetime, **data: Any
) -> None:
    record(
        uow, actor, ret["merchant_id"], action, now, before=ret["status"], after=after or ret["status"],
        return_id=ret["id"], **data,
    )  # fmt: skip


def move_device(uow: UnitOfWork, device: DeviceRow, state: TerminalState, now: datetime, **values: Any) -> None:
    if not uow.provider.save_device(device["id"], device["version"], state=state.value, updated_at=now, **values):
        raise Conflict("provider.device_changed")


def load(uow: UnitOfWork, actor: Actor, return_id: str) -> tuple[Scope, ReturnRow]:
    """The return, if the actor's scope reaches it: the provider's staff theirs, a merchant its own."""
    scope = scope_of(uow, actor)
    ret = uow.provider.get_return(return_id)
    if ret is None or ret["provider_id"] != scope.provider_id:
        raise NotFound("device_return.not_found")
    if scope.merchant_id is not None and ret["merchant_id"] != scope.merchant_id:
        raise NotFound("device_return.not_found")
    return scope, ret


def save(uow: UnitOfWork, ret: ReturnRow, now: datetime, **values: Any) -> ReturnRow:
    if not uow.provider.save_return(ret["id"], ret["version"], updated_at=now, **values):
        raise Conflict("device_return.changed")
    fresh = uow.provider.get_return(ret["id"])
    assert fresh is not None
    return fresh


def approve_shipping(
    deps: Deps, actor: Actor, return_id: str, *, address: str, courier: str, tracking_no: str
) -> ReturnRow:
    """The provider accepts the return and tells the merchant where to send the device, with the courier's
    tracking number."""
    actor.require("device_return.handle")
    values = {
        "ship_address": free_text(address, "address", limit=400),
        "courier": free_text(courier, "courier", limit=40),
        "tracking_no": free_text(tracking_no, "tracking_no", limit=40),
    }
    now = deps.clock.now()
    with deps.uow() as uow:
        _, ret = load(uow, actor, return_id)
        dr.step(ReturnStatus(ret["status"]), ReturnStatus.SHIPPING_APPROVED)
        after = ReturnStatus.SHIPPING_APPROVED.value
        audit(uow, actor, ret, "device_return.shipping_approved", after, now, **values)
        ret = save(uow, ret, now, status=after, shipping_approved_at=now, **values)
        shown = {"address": values["ship_address"]}
        tell_step(deps, uow, ret, "shipping_approved", NotifyEvent.RETURN_SHIPPING, now, shown, **values)
        uow.commit()
    return ret


def receive(
    deps: Deps,
    actor: Actor,
    return_id: str,
    is_workday: Callable[[date], bool],
    *,
    inspection: str,
    note: str,
    photo_ids: list[str],
) -> ReturnRow:
    """The device arrived and was inspected, with photos; the 3-working-day decision clock starts."""
    actor.require("device_return.handle")
    try:
        found = dr.Inspection(inspection)
    except ValueError:
        raise Invalid("device_return.invalid_inspection", inspection=inspection) from None
    note = free_text(note, "note", limit=2000, required=found is not dr.Inspection.INTACT)
    now = deps.clock.now()
    with deps.uow() as uow:
        _, ret = load(uow, actor, return_id)
        dr.step(ReturnStatus(ret["status"]), ReturnStatus.RECEIVED)
        photos = documents_of(uow, ret["merchant_id"], photo_ids)
        if not photos or any(p["kind"] != dr.DocumentKind.INSPECTION_PHOTO.value for p in photos):
            raise Invalid("device_return.documents_missing", missing=[dr.DocumentKind.INSPECTION_PHOTO.value])
        due_on = dr.decision_due(deps.local_date(now), is_workday)
        docs = [*json.loads(ret["documents"]), *photos]
        after = ReturnStatus.RECEIVED.value
        audit(uow, actor, ret, "device_return.received", after, now, inspection=found.value, due_on=due_on.isoformat())
        ret = save(
            uow, ret, now, status=after, received_at=now, inspection=found.value, inspection_note=note,
            due_on=due_on, documents=json.dumps(docs),
        )  # fmt: skip
        seen = {
            "inspection": name_in(INSPECTION_NAMES, found.value, merchant_messages.language_of(uow, ret["merchant_id"]))
        }
        tell_step(
            deps, uow, ret, "received", NotifyEvent.RETURN_RECEIVED, now, seen,
            inspection=found.value, due_on=due_on.isoformat(),
        )  # fmt: skip
        uow.commit()
    return ret
