"""The edges the core needs, as Protocols; adapters implement them, bootstrap picks which."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date, datetime
from types import TracebackType
from typing import Any, Protocol, Self

from posrefund.domain.channel import CallbackNotice, ChannelAnswer, RefundOrder
from posrefund.domain.events import CaseEvent
from posrefund.domain.policy import RefundPolicy
from posrefund.domain.refund import RefundCase
from posrefund.domain.sale import Sale


class ConcurrentUpdate(Exception):
    """A case changed since it was read (compare-and-set on its version failed): reload and try again."""


class PaymentChannel(Protocol):
    """One route back to the payer. ``submit`` and ``query`` never raise for channel trouble: they answer
    ``Outcome.UNKNOWN`` and the worker queries later with the same refund number."""

    name: str

    def submit(self, order: RefundOrder) -> ChannelAnswer: ...

    def query(self, order: RefundOrder) -> ChannelAnswer: ...


class CallbackVerifier(Protocol):
    """Checks a channel's signed notification; raises ``CallbackRejected`` unless it is genuine and fresh."""

    def verify(self, headers: dict[str, str], body: bytes) -> CallbackNotice: ...


class Clock(Protocol):
    def now(self) -> datetime: ...


class Ids(Protocol):
    def new_id(self, prefix: str) -> str: ...

    def new_refund_no(self, now: datetime) -> str: ...


class Cipher(Protocol):
    """Field encryption for personal data, plus a keyed blind index for exact-match lookups."""

    def encrypt(self, plaintext: str) -> str: ...

    def decrypt(self, token: str) -> str: ...

    def blind_index(self, value: str) -> str: ...


class PasswordHasher(Protocol):
    def hash(self, password: str) -> str: ...

    def verify(self, hashed: str, password: str) -> bool: ...


class EvidenceStore(Protocol):
    """Content-addressed file storage: the SHA-256 of the bytes is their address."""

    def put(self, content: bytes) -> str: ...

    def get(self, sha256: str) -> bytes: ...


@dataclass(frozen=True, slots=True)
class CustomerRecord:
    """A customer's contact as stored: ciphertexts, a blind index and the masked forms."""

    phone_enc: str | None = None
    phone_index: str | None = None
    phone_masked: str = ""
    name_enc: str | None = None
    name_masked: str = ""
    id_no_enc: str | None = None
    id_no_masked: str = ""


@dataclass(frozen=True, slots=True)
class SaleQuery:
    voucher_no: str | None = None
    order_no: str | None = None
    last4: str | None = None
    amount_fen: int | None = None
    local_date: date | None = None
    limit: int = 50


@dataclass(frozen=True, slots=True)
class RefundQuery:
    status: str | None = None
    store_id: str | None = None
    terminal_id: str | None = None
    sale_id: str | None = None
    phone_index: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    oldest_first: bool = False
    limit: int = 50
    offset: int = 0


class MerchantRepo(Protocol):
    def add_merchant(self, row: dict[str, Any]) -> None: ...
    def get_merchant(self, merchant_id: str) -> dict[str, Any] | None: ...
    def merchant_code_taken(self, code: str) -> bool: ...
    def list_merchants(self) -> list[dict[str, Any]]: ...
    def add_store(self, row: dict[str, Any]) -> None: ...
    def get_store(self, merchant_id: str, store_id: str) -> dict[str, Any] | None: ...
    def list_stores(self, merchant_id: str) -> list[dict[str, Any]]: ...
    def add_terminal(self, row: dict[str, Any]) -> None: ...
    def get_terminal(self, merchant_id: str, terminal_id: str) -> dict[str, Any] | None: ...
    def terminal_no_taken(self, merchant_id: str, terminal_no: str) -> bool: ...
    def list_terminals(self, merchant_id: str) -> list[dict[str, Any]]: ...


class UserRepo(Protocol):
    def add_user(self, row: dict[str, Any]) -> None: ...
    def by_username(self, username: str) -> dict[str, Any] | None: ...
    def get_user(self, user_id: str) -> dict[str, Any] | None: ...
    def list_users(self, merchant_id: str) -> list[dict[str, Any]]: ...
    def record_login_failure(self, user_id: str, failures: int, locked_until: datetime | None) -> None: ...
    def record_login_success(self, user_id: str) -> None: ...
    def add_api_key(self, row: dict[str, Any]) -> None: ...
    def api_key(self, key_id: str) -> dict[str, Any] | None: ...


class PolicyRepo(Protocol):
    def get_policy(self, merchant_id: str) -> RefundPolicy | None: ...
    def put_policy(self, merchant_id: str, policy: RefundPolicy, actor_id: str, now: datetime) -> int: ...


class SaleRepo(Protocol):
    def add_sale(self, sale: Sale, created_at: datetime) -> bool: ...
    def get_sale(self, merchant_id: str, sale_id: str) -> Sale | None: ...
    def find_sales(self, merchant_id: str, query: SaleQuery) -> list[Sale]: ...
    def reserve(self, sale_id: str, amount_fen: int, max_refunds: int) -> bool: ...
    def release(self, sale_id: str, amount_fen: int) -> None: ...
    def settle_refund(self, sale_id: str, amount_fen: int) -> None: ...


class RefundRepo(Protocol):
    def add_case(self, case: RefundCase, customer: CustomerRecord) -> None: ...
    def get_case(self, merchant_id: str, case_id: str) -> RefundCase | None: ...
    def save_case(self, case: RefundCase) -> None: ...
    def customer(self, case_id: str) -> CustomerRecord: ...
    def get_by_refund_no(self, refund_no: str) -> RefundCase | None: ...
    def due(self, now: datetime, limit: int) -> list[tuple[str, str]]: ...
    def last_sent_for_sale(self, sale_id: str, other_than: str) -> datetime | None: ...
    def list_cases(self, merchant_id: str, query: RefundQuery) -> tuple[list[RefundCase], int]: ...
    def customers_masked(self, case_ids: Sequence[str]) -> dict[str, CustomerRecord]: ...


class EvidenceRepo(Protocol):
    def add_evidence(self, row: dict[str, Any]) -> None: ...
    def evidence_rows(self, merchant_id: str, ids: Iterable[str]) -> list[dict[str, Any]]: ...


class AuditRepo(Protocol):
    def append(self, merchant_id: str | None, case_id: str | None, event: CaseEvent) -> None: ...
    def append_many(self, merchant_id: str | None, case_id: str | None, events: Sequence[CaseEvent]) -> None: ...
    def case_events(self, merchant_id: str, case_id: str) -> list[dict[str, Any]]: ...
    def chains(self) -> list[str]: ...
    def iter_chain(self, chain: str) -> Iterable[dict[str, Any]]: ...


class Outbox(Protocol):
    def put(
        self, topic: str, merchant_id: str, case_id: str | None, payload: dict[str, Any], now: datetime
    ) -> None: ...
    def put_many(self, items: Sequence[tuple[str, str, str | None, dict[str, Any], datetime]]) -> None: ...


class CallbackRepo(Protocol):
    def first_time(self, channel: str, notice_id: str, refund_no: str, now: datetime) -> bool: ...


class CalendarRepo(Protocol):
    def overrides(self) -> dict[date, bool]: ...
    def put_override(self, day: date, workday: bool, note: str, actor_id: str, now: datetime) -> None: ...


class IdempotencyRepo(Protocol):
    def lookup(self, scope: str, key: str) -> dict[str, Any] | None: ...
    def save(self, scope: str, key: str, request_hash: str, status: int, body: bytes, now: datetime) -> None: ...


class UnitOfWork(Protocol):
    """One database transaction; everything written inside commits together or not at all."""

    merchants: MerchantRepo
    users: UserRepo
    policies: PolicyRepo
    sales: SaleRepo
    refunds: RefundRepo
    evidence: EvidenceRepo
    audit: AuditRepo
    outbox: Outbox
    idempotency: IdempotencyRepo
    callbacks: CallbackRepo
    calendar: CalendarRepo

    def __enter__(self) -> Self: ...

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...


class UnitOfWorkFactory(Protocol):
    def __call__(self, *, readonly: bool = False) -> UnitOfWork: ...

    def open_batch(self) -> GroupCommit:
        """Group commit: units of work opened inside ``joined()`` share one transaction and one commit."""
        ...


class GroupCommit(Protocol):
    """One transaction shared by many units of work (each a savepoint), made durable by one commit.

    ``joined()`` is used on the thread that runs the units of work; ``commit()`` may then run on another
    thread (the fsync leaves the event loop free), after which the transaction is closed either way."""

    def joined(self) -> AbstractContextManager[None]: ...

    def commit(self) -> None: ...

    def abandon(self) -> None: ...
