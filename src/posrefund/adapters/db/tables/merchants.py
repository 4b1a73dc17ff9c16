"""Who uses the service: merchants, their stores and terminals, staff accounts, API keys and refund policies."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, ForeignKey, Integer, String, Table, Text, UniqueConstraint

from posrefund.adapters.db.tables.columns import (
    ID,
    blank_string,
    changed_by,
    id_key,
    merchant_ref,
    metadata,
    moment,
)

merchants = Table(
    "merchants",
    metadata,
    id_key(),
    Column("code", String(32), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("contact_phone", String(40), nullable=False, server_default=""),
    moment("created_at"),
    blank_string("provider_id", 32),  # the service provider whose administrators manage it ("" the default one)
    blank_string("licence_no", 18),  # 统一社会信用代码
    blank_string("settlement_bank", 100),
    blank_string("settlement_account_name", 200),
    blank_string("settlement_account_masked", 12),  # the last four: the number itself is never stored
    blank_string("settlement_account_fingerprint", 64),  # keyed: is a number typed later the same account?
)

stores = Table(
    "stores",
    metadata,
    id_key(),
    merchant_ref(index=True),
    Column("name", String(200), nullable=False),
    Column("address", String(400), nullable=False, server_default=""),
    moment("created_at"),
)

terminals = Table(
    "terminals",
    metadata,
    id_key(),
    merchant_ref(),
    Column("store_id", ID, ForeignKey("stores.id"), nullable=False),
    Column("terminal_no", String(16), nullable=False),
    Column("device_sn", String(64), nullable=False),
    moment("created_at"),
    UniqueConstraint("merchant_id", "terminal_no"),
    # What a sale's one foreign key names: the terminal with its store and merchant (see ``ledger.sales``).
    UniqueConstraint("id", "store_id", "merchant_id"),
)

users = Table(
    "users",
    metadata,
    id_key(),
    Column("merchant_id", ID, ForeignKey("merchants.id"), nullable=True, index=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("display_name", String(100), nullable=False),
    Column("role", String(32), nullable=False),
    Column("password_hash", String(200), nullable=False),
    Column("active", Boolean, nullable=False, server_default="1"),
    Column("failed_logins", Integer, nullable=False, server_default="0"),
    moment("locked_until", nullable=True),
    moment("created_at"),
    # What the user is told on the next sign-in: failures since the last one, and when that was.
    Column("failed_since_sign_in", Integer, nullable=False, server_default="0"),
    moment("last_sign_in_at", nullable=True),
    # Raised to revoke every token and refresh token the user holds (sign out everywhere, deactivation,
    # a new role or password): a token carries the generation it was issued at.
    Column("token_generation", Integer, nullable=False, server_default="0"),
    Column("must_change_password", Boolean, nullable=False, server_default="0"),  # set by an admin's reset
    blank_string("provider_id", 32),  # a provider admin's provider; a merchant's staff take their merchant's
)

# A signed-in user's refresh token: only a hash is kept; used once (then replaced), and void once the user's
# token generation moves on.
refresh_tokens = Table(
    "refresh_tokens",
    metadata,
    id_key(),
    Column("user_id", ID, ForeignKey("users.id"), nullable=False, index=True),
    Column("secret_hash", String(64), nullable=False),
    Column("generation", Integer, nullable=False),
    moment("created_at"),
    moment("expires_at"),
    moment("used_at", nullable=True),
)

api_keys = Table(
    "api_keys",
    metadata,
    id_key(),
    merchant_ref(),
    Column("terminal_id", ID, ForeignKey("terminals.id"), nullable=False),
    Column("secret_hash", String(64), nullable=False),
    Column("role", String(32), nullable=False),
    moment("created_at"),
    moment("revoked_at", nullable=True),
)

policies = Table(
    "policies",
    metadata,
    merchant_ref(primary_key=True),
    Column("document", Text, nullable=False),
    Column("version", Integer, nullable=False),
    *changed_by(),
)

# A merchant's own account on a wallet channel when posrefund refunds for it as that channel's service provider
# (WeChat Pay 服务商: the sub-merchant's ``sub_mchid`` and optional ``sub_appid``); set by the provider's admin.
merchant_channel_accounts = Table(
    "merchant_channel_accounts",
    metadata,
    merchant_ref(primary_key=True),
    Column("channel", String(16), primary_key=True),
    Column("sub_mchid", String(32), nullable=False),
    blank_string("sub_appid", 32),
    *changed_by(),
)
