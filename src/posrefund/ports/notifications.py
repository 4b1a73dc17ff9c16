"""Telling customers: delivery routes, notifications, contacts, follow-ups, disputes and notification settings."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, Protocol, TypedDict

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


class DisputeRow(TypedDict):
    """A dispute as stored: its evidence ids are a JSON list, "" stands for not escalated."""

    id: str
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
    version: int


class NewNotificationRow(TypedDict):
    """A notification as queued: its event details (``params``) are JSON; "" is no error yet."""

    id: str
    message_id: str
    merchant_id: str
    case_id: str
    event: str
    channel: str
    language: str
    recipient_masked: str
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


class ContactEntryRow(TypedDict):
    """One contact with a case's customer in the contact log: a call, message or visit, in or out."""

    id: str
    merchant_id: str
    case_id: str
    kind: str
    direction: str
    note: str
    actor_id: str
    actor_role: str
    at: datetime


class NotificationRepo(Protocol):
    """The outbox's case events, the notifications made from them and each delivery attempt."""

    def pending_case_events(self, now: datetime, limit: int) -> list[dict[str, Any]]: ...
    def mark_events_done(self, ids: Sequence[int], now: datetime) -> None: ...
    def add_notification(self, row: NewNotificationRow) -> bool: ...
    def due_notifications(self, now: datetime, limit: int) -> list[str]: ...
    def get_notification(self, notification_id: str) -> NotificationRow | None: ...
    def update_notification(self, notification_id: str, attempts: int, values: dict[str, Any]) -> bool: ...
    def add_attempt(self, row: dict[str, Any]) -> None: ...
    def notifications_for(self, case_id: str) -> list[NotificationRow]: ...
    def attempts_for(self, notification_ids: Sequence[str]) -> list[dict[str, Any]]: ...


class ContactRepo(Protocol):
    """How to reach a case's customer, phone opt-outs, and the log of contacts made."""

    def contact(self, case_id: str) -> dict[str, Any] | None: ...
    def put_contact(self, row: dict[str, Any]) -> None: ...
    def phone_opted_out(self, merchant_id: str, phone_index: str) -> bool: ...
    def put_phone_optout(self, merchant_id: str, phone_index: str, source: str, now: datetime) -> None: ...
    def add_contact_entry(self, row: ContactEntryRow) -> None: ...
    def contact_entries(self, merchant_id: str, case_id: str) -> list[ContactEntryRow]: ...


class FollowUpRepo(Protocol):
    """Follow-ups (后续跟进) of refunds whose money should have arrived."""

    def cases_needing_followup(self, before: date, limit: int) -> list[tuple[str, str]]: ...
    def add_followup(self, row: NewFollowUpRow) -> bool: ...
    def followup(self, merchant_id: str, case_id: str) -> FollowUpRow | None: ...
    def close_followup(self, case_id: str, values: dict[str, Any]) -> bool: ...
    def list_followups(self, merchant_id: str, status: str | None, limit: int) -> list[FollowUpRow]: ...


class DisputeRepo(Protocol):
    """Disputes (争议) a customer raises about a refund."""

    def add_dispute(self, row: DisputeRow) -> None: ...
    def get_dispute(self, merchant_id: str, dispute_id: str) -> DisputeRow | None: ...
    def save_dispute(self, dispute_id: str, version: int, values: dict[str, Any]) -> bool: ...
    def list_disputes(
        self, merchant_id: str, status: str | None, case_id: str | None, limit: int
    ) -> list[DisputeRow]: ...


class NotifySettingsRepo(Protocol):
    """A merchant's message templates and delivery gateways."""

    def template(self, merchant_id: str, event: str, language: str) -> tuple[str, str] | None: ...
    def templates(self, merchant_id: str) -> list[dict[str, Any]]: ...
    def put_template(self, row: dict[str, Any]) -> None: ...
    def delete_template(self, merchant_id: str, event: str, language: str) -> bool: ...
    def gateway(self, merchant_id: str, kind: str) -> GatewayRow | None: ...
    def gateways(self, merchant_id: str) -> list[dict[str, Any]]: ...
    def put_gateway(self, row: dict[str, Any]) -> None: ...
