"""Notifications (通知), the contact log and follow-ups (后续跟进) of refund cases."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from pydantic import Field

from posrefund.domain.roles import Actor
from posrefund.entrypoints.api.context import AppContext, Ctx, CurrentActor
from posrefund.entrypoints.api.listing import add_listing
from posrefund.entrypoints.api.responses import SIGNED_IN, WITH_BODY, answers
from posrefund.entrypoints.api.responses_followup import (
    CaseNotifications,
    ContactLog,
    ContactLogEntry,
    FollowUp,
    FollowUpList,
    Gateway,
    GatewayList,
    MerchantNotifyContact,
    NotifyContact,
    Template,
    TemplateList,
)
from posrefund.entrypoints.api.schemas import Body
from posrefund.service.notifications import follow_up, merchant_contact, settings
from posrefund.service.notifications.follow_up import ContactEntry
from posrefund.service.notifications.settings import ContactInput

router = APIRouter(tags=["notify"])
ON_CASE = (*SIGNED_IN, 404)
ON_CASE_WITH_BODY = (*ON_CASE, *WITH_BODY)

Lang = Literal["zh", "en"]


class NotifyContactIn(Body):
    language: Lang | None = None
    email: Annotated[str | None, Field(max_length=254)] = None
    wechat_openid: Annotated[str | None, Field(max_length=64)] = None
    opted_out: bool | None = None


class OptOutIn(Body):
    scope: Annotated[Literal["case", "customer"], Field(description="this case, or every case of the phone")] = (
        "customer"
    )


class TemplateIn(Body):
    event: Annotated[str, Field(min_length=1, max_length=32, description="accepted, pending_review, approved, …")]
    language: Lang
    subject: Annotated[str, Field(max_length=200)] = ""
    body: Annotated[str, Field(min_length=1, max_length=2000)]


class GatewayIn(Body):
    kind: Literal["sms", "wechat"]
    url: Annotated[str, Field(min_length=8, max_length=500)]
    payload: Annotated[
        dict[Annotated[str, Field(min_length=1, max_length=100)], Annotated[str, Field(max_length=200)]],
        Field(min_length=1, max_length=30),
    ]
    credential: Annotated[str | None, Field(max_length=500, description="write-only; kept encrypted")] = None
    name: Annotated[str, Field(max_length=64)] = ""
    auth_header: Annotated[str, Field(min_length=1, max_length=64)] = "Authorization"
    auth_scheme: Annotated[str, Field(max_length=32)] = "Bearer"
    message_id_header: Annotated[str, Field(min_length=1, max_length=64)] = "Idempotency-Key"
    response_id: Annotated[str, Field(max_length=100)] = ""
    timeout: Annotated[float, Field(gt=0, le=60)] = 5.0


class ContactIn(Body):
    kind: Literal["call", "message", "visit"]
    direction: Literal["in", "out"] = "out"
    note: Annotated[str, Field(min_length=1, max_length=1000)]


class CloseFollowupIn(Body):
    note: Annotated[str, Field(max_length=1000)] = ""


async def _items(c: AppContext, actor: Actor, query: Callable[..., list[dict[str, Any]]], *args: Any) -> dict[str, Any]:
    """A listing: the rows the service reads, under ``items``."""
    return {"items": await c.run(query, c.deps, actor, *args)}


@router.get(
    "/v1/refunds/{refund_id}/notifications",
    summary="Messages sent for a case",
    **answers(CaseNotifications, *ON_CASE, permission="notify.read"),
)
async def notifications(refund_id: str, actor: CurrentActor, c: Ctx) -> dict[str, Any]:
    return await c.run(settings.case_notifications, c.deps, actor, refund_id)


@router.put(
    "/v1/refunds/{refund_id}/notify-contact",
    summary="How the customer wants to hear",
    **answers(NotifyContact, *ON_CASE_WITH_BODY, permission="notify.contact"),
)
async def put_contact(refund_id: str, body: NotifyContactIn, actor: CurrentActor, c: Ctx) -> dict[str, Any]:
    inp = ContactInput(body.language, body.email, body.wechat_openid, body.opted_out)
    return await c.run(settings.set_contact, c.deps, actor, refund_id, inp)


@router.post(
    "/v1/refunds/{refund_id}/opt-out",
    summary="Stop messages to the customer",
    **answers(None, *ON_CASE_WITH_BODY, status=204, permission="notify.contact"),
)
async def opt_out(refund_id: str, actor: CurrentActor, c: Ctx, body: OptOutIn | None = None) -> Response:
    actor.require("notify.contact")
    await c.run(settings.opt_out, c.deps, actor, refund_id, body.scope if body else "customer")
    return Response(status_code=204)


add_listing(
    router,
    "/v1/notify/templates",
    TemplateList,
    settings.list_templates,
    "notify.read",
    name="templates",
    summary="Message templates, per event and language",
)


@router.put(
    "/v1/notify/templates",
    summary="Set a message template",
    **answers(Template, *SIGNED_IN, *WITH_BODY, permission="notify.configure"),
)
async def put_template(body: TemplateIn, actor: CurrentActor, c: Ctx) -> dict[str, Any]:
    """The merchant's own template for one event and language; refused (422) unless it renders."""
    return await c.run(settings.put_template, c.deps, actor, body.event, body.language, body.subject, body.body)


@router.delete(
    "/v1/notify/templates",
    summary="Back to the default template",
    **answers(None, *SIGNED_IN, 404, status=204, permission="notify.configure"),
)
async def reset_template(
    actor: CurrentActor,
    c: Ctx,
    event: Annotated[str, Query(min_length=1, max_length=32)],
    language: Annotated[Lang, Query()],
) -> Response:
    """Back to the default template."""
    await c.run(settings.reset_template, c.deps, actor, event, language)
    return Response(status_code=204)


add_listing(
    router,
    "/v1/notify/gateways",
    GatewayList,
    settings.list_gateways,
    "notify.configure",
    name="gateways",
    summary="The merchant's SMS and WeChat gateways",
)


@router.put(
    "/v1/notify/gateways",
    summary="Set an SMS or WeChat gateway",
    **answers(Gateway, *SIGNED_IN, *WITH_BODY, permission="notify.configure"),
)
async def put_gateway(body: GatewayIn, actor: CurrentActor, c: Ctx) -> dict[str, Any]:
    """The merchant's own SMS or WeChat provider; the credential is write-only and stored encrypted."""
    doc = body.model_dump(exclude={"credential", "kind"})
    return await c.run(settings.put_gateway, c.deps, actor, body.kind, doc, body.credential)


@router.post(
    "/v1/refunds/{refund_id}/contacts",
    summary="Log a call, message or visit",
    **answers(ContactLogEntry, *ON_CASE_WITH_BODY, status=201, permission="contact.record"),
)
async def log_contact(refund_id: str, body: ContactIn, actor: CurrentActor, c: Ctx) -> dict[str, Any]:
    entry = ContactEntry(body.kind, body.direction, body.note)
    return await c.run(follow_up.log_contact, c.deps, actor, refund_id, entry)


@router.get(
    "/v1/refunds/{refund_id}/contacts",
    summary="A case's contact log",
    **answers(ContactLog, *ON_CASE, permission="contact.read"),
)
async def contacts(refund_id: str, actor: CurrentActor, c: Ctx) -> dict[str, Any]:
    return await _items(c, actor, follow_up.contacts, refund_id)


@router.get(
    "/v1/followups",
    summary="Follow-ups, open or closed",
    **answers(FollowUpList, *SIGNED_IN, permission="followup.read"),
)
async def followups(
    actor: CurrentActor,
    c: Ctx,
    status: Annotated[Literal["open", "closed"] | None, Query()] = "open",
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    return await _items(c, actor, follow_up.list_followups, status, limit)


@router.post(
    "/v1/followups/{refund_id}/close",
    summary="Close a follow-up",
    **answers(FollowUp, *ON_CASE_WITH_BODY, 409, permission="followup.close"),
)
async def close_followup(
    refund_id: str, actor: CurrentActor, c: Ctx, body: CloseFollowupIn | None = None
) -> dict[str, Any]:
    return await c.run(follow_up.close_by_staff, c.deps, actor, refund_id, body.note if body else "")


class MerchantContactIn(Body):
    phone: Annotated[str, Field(max_length=20, description='a mainland mobile; "" none')] = ""
    email: Annotated[str, Field(max_length=254)] = ""
    language: Lang = "zh"


@router.get(
    "/v1/merchants/{merchant_id}/notify-contact",
    summary="Where the merchant hears about its device returns and fee refunds",
    **answers(MerchantNotifyContact, *ON_CASE, permission="merchant.contact"),
)
async def get_merchant_contact(merchant_id: str, actor: CurrentActor, c: Ctx) -> dict[str, Any]:
    return await c.run(merchant_contact.merchant_contact, c.deps, actor, merchant_id)


@router.put(
    "/v1/merchants/{merchant_id}/notify-contact",
    summary="Set where the merchant hears about its device returns and fee refunds",
    **answers(MerchantNotifyContact, *ON_CASE_WITH_BODY, permission="merchant.contact"),
)
async def put_merchant_contact(
    merchant_id: str, body: MerchantContactIn, actor: CurrentActor, c: Ctx
) -> dict[str, Any]:
    """Its mobile (kept encrypted, shown masked), email and language; without a mobile of its own, its
    registered phone takes the SMS if it is a mobile."""
    inp = merchant_contact.MerchantContactInput(body.phone, body.email, body.language)
    return await c.run(merchant_contact.set_merchant_contact, c.deps, actor, merchant_id, inp)
