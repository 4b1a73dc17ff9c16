"""Telling customers: delivery routes, notifications, contacts, follow-ups, disputes and notification settings."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Protocol, TypedDict

from typing_extensions import TypedDict as PortableTypedDict

from posrefund.domain.notification import OutgoingMessage, SendResult


class Notifier(Protocol):
    """One delivery route (an SMS or WeChat HTTP gateway, an SMTP server). ``send`` never raises for
    gateway trouble: it answers a ``SendResult`` (retryable or not). The message id goes to the gateway
    so that a repeat after a crash is recognised there as the same message."""

    name: str

    def send(self, message: OutgoingMessage) -> SendResult: ...


class GatewayRow(TypedDict):
    """A merchant's delivery gateway of one kind: its settings (JSON) and its encrypted credential."""

    merchant_id: str
    kind: str
    document: str
    credential_enc: str | None
    updated_by: str
    updated_at: datetime


class DisputeState(TypedDict):
    """What a step may change on a stored dispute: all of it but its id and version (the compare-and-set's)."""

    merchant_id: str
    case_id: str
    status: str
    claim: str
    claimed_fen: int | None
    evidence_ids: str
    escalated_to: str
    escalation_ref: str
    outcome_reason: str
    new_case_id: str | None
    opened_by: str
    opened_at: datetime
    updated_at: datetime
    closed_at: datetime | None


class DisputeRow(DisputeState):
    """A dispute as stored: its evidence ids are a JSON list, "" stands for not escalated."""

    id: str
    version: int


class NotificationFacts(PortableTypedDict):
    """Whom a notification is for and about, the same where it is stored and where the API shows it."""

    id: str
    message_id: str
    merchant_id: str
    case_id: str | None  # None: a message to the merchant itself (its device return, its fee refund)
    event: str
    channel: str
    language: str
    recipient_masked: str


class NewNotificationRow(NotificationFacts):
    """A notification as queued: its event details (``params``) are JSON; "" is no error yet."""

    params: str
    status: str
    attempts: int
    next_attempt_at: datetime | None
    last_error: str
    created_at: datetime


class NotificationRow(NewNotificationRow):
    """A notification as stored, with what its delivery left: the gateway's id and when it was sent."""

    provider_message_id: str
    sent_at: datetime | None


class NewFollowUpRow(TypedDict):
    """A follow-up as opened: one a case, due from the day the money should have arrived."""

    case_id: str
    merchant_id: str
    due_on: date
    status: str
    created_at: datetime


class FollowUpRow(NewFollowUpRow):
    """A follow-up as stored: "" and None until it is closed (by the customer or by staff)."""

    closed_at: datetime | None
    closed_by: str
    closed_how: str
    note: str


class ContactEntryFacts(PortableTypedDict):
    """One contact with a case's customer in the contact log: a call, message or visit, in or out; the same
    where it is stored and where the API shows it (``ContactLogEntry`` there, its time as text)."""

    id: str
    merchant_id: str
    case_id: str
    kind: str
    direction: str
    note: str
    actor_id: str
    actor_role: str


class ContactEntryRow(ContactEntryFacts):
    """A contact log entry as stored, with when it happened."""

    at: datetime


class CaseEventEntry(TypedDict):
    """A case event waiting in the outbox to become notifications; ``payload`` is the event as JSON."""

    id: int
    merchant_id: str
    case_id: str | None
    payload: str


class NotificationChange(TypedDict, total=False):
    """What one delivery step changes on a notification (the attempt count it read guards the write)."""

    attempts: int
    status: str
    next_attempt_at: datetime | None
    provider_message_id: str
    last_error: str
    sent_at: datetime | None


class NewAttemptRow(TypedDict):
    """One try to deliver a notification: the gateway, ``sent`` / ``retry`` / ``failed``, and what it said."""

    notification_id: str
    at: datetime
    gateway: str
    result: str
    provider_message_id: str
    error: str


class AttemptRow(NewAttemptRow):
    """A delivery attempt as stored, numbered in the order they were made."""

    id: int


class ContactSettings(TypedDict):
    """How a case's customer wants to hear, as staff may see it: language, masked addresses, opt-out."""

    language: str
    email_masked: str
    wechat_openid_masked: str
    opted_out: bool


class ContactRow(ContactSettings):
    """A case's notification contact as stored: the addresses themselves only encrypted (None: not given)."""

    case_id: str
    merchant_id: str
    email_enc: str | None
    wechat_openid_enc: str | None
    updated_at: datetime


class FollowUpClosing(TypedDict):
    """How a follow-up was closed: when, by whom (a staff id or the customer), how, with the note."""

    closed_at: datetime
    closed_by: str
    closed_how: str
    note: str


class MerchantContactRow(TypedDict):
    """Where the merchant itself hears about its device returns and fee refunds: its registered mobile and
    email, encrypted (None: not given), with masked copies to show, and its language."""

    merchant_id: str
    language: str
    phone_enc: str | None
    phone_masked: str
    email_enc: str | None
    email_masked: str
    updated_by: str
    updated_at: datetime


class TemplateRow(TypedDict):
    """A merchant's own message template for one event and language (the defaults are in the domain)."""

    merchant_id: str
    event: str
    language: str
    subject: str
    body: str
    updated_by: str
    updated_at: datetime


class NotificationRepo(Protocol):
    """The outbox's case events, the notifications made from them and each delivery attempt."""

    def pending_case_events(self, now: datetime, limit: int) -> list[CaseEventEntry]: ...
    def mark_events_done(self, ids: Sequence[int], now: datetime) -> None: ...
    def add_notification(self, row: NewNotificationRow) -> bool: ...
    def due_notifications(self, now: datetime, limit: int) -> list[str]: ...
    def get_notification(self, notification_id: str) -> NotificationRow | None: ...
    def update_notification(self, notification_id: str, attempts: int, values: NotificationChange) -> bool: ...
    def add_attempt(self, row: NewAttemptRow) -> None: ...
    def notifications_for(self, case_id: str) -> list[NotificationRow]: ...
    def by_message_ids(self, message_ids: Sequence[str]) -> list[NotificationRow]: ...
    def attempts_for(self, notification_ids: Sequence[str]) -> list[AttemptRow]: ...


class ContactRepo(Protocol):
    """How to reach a case's customer, phone opt-outs, and the log of contacts made."""

    def contact(self, case_id: str) -> ContactRow | None: ...
    def put_contact(self, row: ContactRow) -> None: ...
    def phone_opted_out(self, merchant_id: str, phone_index: str) -> bool: ...
    def put_phone_optout(self, merchant_id: str, phone_index: str, source: str, now: datetime) -> None: ...
    def add_contact_entry(self, row: ContactEntryRow) -> None: ...
    def contact_entries(self, merchant_id: str, case_id: str) -> list[ContactEntryRow]: ...


class FollowUpRepo(Protocol):
    """Follow-ups (后续跟进) of refunds whose money should have arrived."""

    def cases_needing_followup(self, before: date, limit: int) -> list[tuple[str, str]]: ...
    def add_followup(self, row: NewFollowUpRow) -> bool: ...
    def followup(self, merchant_id: str, case_id: str) -> FollowUpRow | None: ...
    def close_followup(self, case_id: str, values: FollowUpClosing) -> bool: ...
    def list_followups(self, merchant_id: str, status: str | None, limit: int) -> list[FollowUpRow]: ...


class DisputeRepo(Protocol):
    """Disputes (争议) a customer raises about a refund."""

    def add_dispute(self, row: DisputeRow) -> None: ...
    def get_dispute(self, merchant_id: str, dispute_id: str) -> DisputeRow | None: ...
    def save_dispute(self, dispute_id: str, version: int, values: DisputeState) -> bool: ...
    def list_disputes(
        self, merchant_id: str, status: str | None, case_id: str | None, limit: int
    ) -> list[DisputeRow]: ...


class NotifySettingsRepo(Protocol):
    """A merchant's message templates and delivery gateways."""

    def template(self, merchant_id: str, event: str, language: str) -> tuple[str, str] | None: ...
    def templates(self, merchant_id: str) -> list[TemplateRow]: ...
    def put_template(self, row: TemplateRow) -> None: ...
    def merchant_contact(self, merchant_id: str) -> MerchantContactRow | None: ...
    def put_merchant_contact(self, row: MerchantContactRow) -> None: ...
    def delete_template(self, merchant_id: str, event: str, language: str) -> bool: ...
    def gateway(self, merchant_id: str, kind: str) -> GatewayRow | None: ...
    def gateways(self, merchant_id: str) -> list[GatewayRow]: ...
    def put_gateway(self, row: GatewayRow) -> None: ...
