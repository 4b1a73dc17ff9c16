"""Merchants with their stores and terminals."""

from __future__ import annotations

from typing import cast

from sqlalchemy import delete, insert, select, update

from posrefund.adapters.db import tables
from posrefund.adapters.db.repositories.rows import Repository, all_rows, first_row
from posrefund.ports import ChannelAccountRow, MerchantRow, StoreRow, TerminalRow

_M, _ST, _T = tables.merchants.c, tables.stores.c, tables.terminals.c
# What a merchant's row shows: everything but the settlement account's fingerprint, which only answers whether a
# number typed later is the same account (``settlement_fingerprint``).
FINGERPRINT = "settlement_account_fingerprint"
_SHOWN = [column for column in tables.merchants.c if column.name != FINGERPRINT]
_CA = tables.merchant_channel_accounts.c


class MerchantSql(Repository):
    def add_merchant(self, row: MerchantRow) -> None:
        self.c.execute(insert(tables.merchants).values(**row))

    def get_merchant(self, merchant_id: str) -> MerchantRow | None:
        return cast(MerchantRow | None, first_row(self.c, select(*_SHOWN).where(_M.id == merchant_id)))

    def settlement_fingerprint(self, merchant_id: str) -> str:
        return str(self.c.execute(select(_M.settlement_account_fingerprint).where(_M.id == merchant_id)).scalar() or "")

    def set_merchant_profile(self, merchant_id: str, values: dict[str, str]) -> None:
        self.c.execute(update(tables.merchants).where(_M.id == merchant_id).values(**values))

    def merchant_code_taken(self, code: str) -> bool:
        return self.c.execute(select(_M.id).where(_M.code == code)).first() is not None

    def list_merchants(self) -> list[MerchantRow]:
        return cast(list[MerchantRow], all_rows(self.c, select(*_SHOWN).order_by(_M.created_at)))

    def add_store(self, row: StoreRow) -> None:
        self.c.execute(insert(tables.stores).values(**row))

    def get_store(self, merchant_id: str, store_id: str) -> StoreRow | None:
        q = select(tables.stores).where(_ST.id == store_id, _ST.merchant_id == merchant_id)
        return cast(StoreRow | None, first_row(self.c, q))

    def list_stores(self, merchant_id: str) -> list[StoreRow]:
        q = select(tables.stores).where(_ST.merchant_id == merchant_id).order_by(_ST.created_at)
        return cast(list[StoreRow], all_rows(self.c, q))

    def add_terminal(self, row: TerminalRow) -> None:
        self.c.execute(insert(tables.terminals).values(**row))

    def get_terminal(self, merchant_id: str, terminal_id: str) -> TerminalRow | None:
        q = select(tables.terminals).where(_T.id == terminal_id, _T.merchant_id == merchant_id)
        return cast(TerminalRow | None, first_row(self.c, q))

    def terminal_no_taken(self, merchant_id: str, terminal_no: str) -> bool:
        q = select(_T.id).where(_T.merchant_id == merchant_id, _T.terminal_no == terminal_no)
        return self.c.execute(q).first() is not None

    def list_terminals(self, merchant_id: str) -> list[TerminalRow]:
        q = select(tables.terminals).where(_T.merchant_id == merchant_id).order_by(_T.terminal_no)
        return cast(list[TerminalRow], all_rows(self.c, q))

    def put_channel_account(self, row: ChannelAccountRow) -> None:
        """Replace the merchant's account on that channel (one per merchant and channel)."""
        where = (_CA.merchant_id == row["merchant_id"]) & (_CA.channel == row["channel"])
        self.c.execute(delete(tables.merchant_channel_accounts).where(where))
        self.c.execute(insert(tables.merchant_channel_accounts).values(**row))

    def channel_account(self, merchant_id: str, channel: str) -> ChannelAccountRow | None:
        query = select(tables.merchant_channel_accounts).where(
            (_CA.merchant_id == merchant_id) & (_CA.channel == channel)
        )
        return cast(ChannelAccountRow | None, first_row(self.c, query))
