"""Who uses the service: merchants with their stores and terminals, staff and API keys, refund policies."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, NotRequired, Protocol, TypedDict

from posrefund.domain.policy import RefundPolicy


class MerchantRow(TypedDict):
    """A merchant; ``provider_id`` names the service provider whose administrators manage it ("" the default)."""

    id: str
    code: str
    name: str
    contact_phone: str
    created_at: datetime
    provider_id: str
    licence_no: NotRequired[str]
    settlement_bank: NotRequired[str]
    settlement_account_name: NotRequired[str]
    settlement_account_masked: NotRequired[str]


class StoreRow(TypedDict):
    id: str
    merchant_id: str
    name: str
    address: str
    created_at: datetime


class TerminalRow(TypedDict):
    id: str
    merchant_id: str
    store_id: str
    terminal_no: str
    device_sn: str
    created_at: datetime


class ChannelAccountRow(TypedDict):
    """A merchant's sub-merchant account on a wallet channel, for a service provider refunding on its behalf."""

    merchant_id: str
    channel: str
    sub_mchid: str
    sub_appid: str
    updated_by: str
    updated_at: datetime


class NewUserRow(TypedDict):
    """A staff account as created; ``merchant_id`` is None for platform staff, ``locked_until`` set after
    failed logins. Its sign-in history starts at the table's defaults."""

    id: str
    merchant_id: str | None
    username: str
    display_name: str
    role: str
    password_hash: str
    active: bool
    failed_logins: int
    locked_until: datetime | None
    created_at: datetime
    token_generation: int
    must_change_password: bool
    provider_id: str


class UserRow(NewUserRow):
    """A staff account as kept, with what its owner is told on the next sign-in."""

    failed_since_sign_in: int
    last_sign_in_at: datetime | None


class RefreshRow(TypedDict):
    """A refresh token as kept: its secret's hash, the user's generation when issued, whether it was used."""

    id: str
    user_id: str
    secret_hash: str
    generation: int
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None


@dataclass(frozen=True)
class SignInNotice:
    """What a user is told on signing in: the failed attempts on the account since their last sign-in."""

    failed_attempts: int
    last_sign_in_at: datetime | None


class ApiKeyRow(TypedDict):
    """A terminal's API key: only the hash of its secret is kept."""

    id: str
    merchant_id: str
    terminal_id: str
    secret_hash: str
    role: str
    created_at: datetime
    revoked_at: datetime | None


class MerchantRepo(Protocol):
    def add_merchant(self, row: MerchantRow) -> None: ...
    def get_merchant(self, merchant_id: str) -> MerchantRow | None: ...
    def merchant_code_taken(self, code: str) -> bool: ...
    def set_merchant_profile(self, merchant_id: str, values: dict[str, str]) -> None: ...
    def settlement_fingerprint(self, merchant_id: str) -> str: ...
    def list_merchants(self) -> list[MerchantRow]: ...
    def add_store(self, row: StoreRow) -> None: ...
    def get_store(self, merchant_id: str, store_id: str) -> StoreRow | None: ...
    def list_stores(self, merchant_id: str) -> list[StoreRow]: ...
    def add_terminal(self, row: TerminalRow) -> None: ...
    def get_terminal(self, merchant_id: str, terminal_id: str) -> TerminalRow | None: ...
    def terminal_no_taken(self, merchant_id: str, terminal_no: str) -> bool: ...
    def list_terminals(self, merchant_id: str) -> list[TerminalRow]: ...
    def put_channel_account(self, row: ChannelAccountRow) -> None: ...
    def channel_account(self, merchant_id: str, channel: str) -> ChannelAccountRow | None: ...


class UserRepo(Protocol):
    def add_user(self, row: NewUserRow) -> None: ...
    def by_username(self, username: str) -> UserRow | None: ...
    def get_user(self, user_id: str) -> UserRow | None: ...
    def list_users(self, merchant_id: str) -> list[UserRow]: ...
    def take_sign_in_turn(self, user_id: str, max_failures: int, now: datetime) -> bool: ...
    def record_sign_in_failure(self, user_id: str, max_failures: int, lock_until: datetime) -> bool: ...
    def record_sign_in(self, user_id: str, now: datetime) -> SignInNotice | None: ...
    def unlock_user(self, user_id: str) -> bool: ...
    def add_api_key(self, row: ApiKeyRow) -> None: ...
    def api_key(self, key_id: str) -> ApiKeyRow | None: ...
    def revoke_api_key(self, key_id: str, now: datetime) -> bool: ...
    def list_api_keys(self, merchant_id: str) -> list[ApiKeyRow]: ...
    def change_user(self, user_id: str, *, bump: bool, **values: Any) -> int: ...
    def token_state(self, user_id: str) -> tuple[int, bool] | None: ...
    def add_refresh(self, row: RefreshRow) -> None: ...
    def refresh(self, refresh_id: str) -> RefreshRow | None: ...
    def use_refresh(self, refresh_id: str, now: datetime) -> bool: ...


class PolicyRepo(Protocol):
    def get_policy(self, merchant_id: str) -> RefundPolicy | None: ...
    def put_policy(self, merchant_id: str, policy: RefundPolicy, actor_id: str, now: datetime) -> int: ...
