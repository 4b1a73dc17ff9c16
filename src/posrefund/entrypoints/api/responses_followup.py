"""What the notification, contact-log, follow-up and dispute routes answer (see responses.py for why these
models document and do not re-validate)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import ConfigDict, Field, with_config

from posrefund.entrypoints.api.responses import Out
from posrefund.ports.notifications import ContactEntryFacts, NotificationFacts


class NotifyContact(Out):
    language: str
    email: str | None
    wechat_openid: str | None
    opted_out: bool


class MerchantNotifyContact(Out):
    """Where the merchant itself hears about its device returns and fee refunds: masked."""

    merchant_id: str
    language: str
    phone: str = Field(description='masked, e.g. 139****5678; "" none of its own')
    email: str = Field(description='masked; "" none')
    updated_at: datetime | None


class CaseContact(NotifyContact):
    phone: str | None


class Attempt(Out):
    id: int
    notification_id: str
    at: str | None
    gateway: str
    result: str
    provider_message_id: str
    error: str


@with_config(ConfigDict(extra="forbid"))
class Notification(NotificationFacts):
    params: dict[str, Any]
    status: str
    attempts: int
    next_attempt_at: str | None
    provider_message_id: str
    last_error: str
    created_at: str | None
    sent_at: str | None
    attempt_log: list[Attempt]


class CaseNotifications(Out):
    contact: CaseContact
    items: list[Notification]


class Template(Out):
    event: str
    language: str
    subject: str
    body: str
    custom: bool


class TemplateList(Out):
    items: list[Template]


class Gateway(Out):
    """The credential itself is never answered: only whether one is set."""

    kind: str
    url: str
    payload: dict[str, str]
    name: str
    auth_header: str
    auth_scheme: str
    message_id_header: str
    response_id: str
    timeout: float
    credential_set: bool


class GatewayList(Out):
    items: list[Gateway]


@with_config(ConfigDict(extra="forbid"))
class ContactLogEntry(ContactEntryFacts):
    at: str | None


class ContactLog(Out):
    items: list[ContactLogEntry]


class FollowUp(Out):
    case_id: str
    merchant_id: str
    due_on: str | None
    status: str
    created_at: str | None
    closed_at: str | None
    closed_by: str
    closed_how: str
    note: str


class FollowUpRow(FollowUp):
    """A follow-up as listed: with its case's number, amount and expected arrival."""

    refund_no: str
    amount_fen: int
    currency: str
    expected_arrival: str | None
    age_days: int
    customer_phone: str | None


class FollowUpList(Out):
    items: list[FollowUpRow]


class Dispute(Out):
    id: str
    merchant_id: str
    case_id: str
    status: str
    claim: str
    claimed_fen: int | None
    evidence_ids: list[str]
    escalated_to: str
    escalation_ref: str
    outcome_reason: str
    new_case_id: str | None
    opened_by: str
    opened_at: str | None
    updated_at: str | None
    closed_at: str | None
    version: int
    age_days: int
    age_hours: int


class DisputeList(Out):
    items: list[Dispute]
