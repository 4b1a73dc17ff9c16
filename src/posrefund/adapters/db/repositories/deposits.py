"""Deposits with their terms templates, refund proposals and penalty payouts; every change compare-and-set
on the row's version."""

from __future__ import annotations

import json
from datetime import date
from typing import Any, cast

from sqlalchemy import ColumnElement, Select, Table, insert, select, update
from sqlalchemy.exc import IntegrityError

from posrefund.adapters.db import tables
from posrefund.adapters.db.repositories.rows import Repository, all_rows, first_row
from posrefund.ports.deposits import DepositRow, DeskDepositRow, DeskFilter, PayoutRow, ProposalRow, TermsRow

T = tables.deposit_terms.c
D = tables.deposits.c
P = tables.deposit_proposals.c
Y = tables.deposit_payouts.c
S = tables.sales.c


def _of_store(q: Select[Any], deposit_id: ColumnElement[Any], store_id: str) -> Select[Any]:
    """Only the rows of deposits taken at ``store_id`` (every store when it is "")."""
    if not store_id:
        return q
    taken_there = select(D.id).join(tables.sales, S.id == D.sale_id).where(S.store_id == store_id)
    return q.where(deposit_id.in_(taken_there))


def _proposal(row: dict[str, Any]) -> ProposalRow:
    row["deductions"] = json.loads(row["deductions"])
    row["figures"] = json.loads(row["figures"])
    return cast(ProposalRow, row)


def _proposal_values(row: ProposalRow) -> dict[str, Any]:
    values = dict(row)
    values["deductions"] = json.dumps(row["deductions"], ensure_ascii=False, sort_keys=True)
    values["figures"] = json.dumps(row["figures"], ensure_ascii=False, sort_keys=True)
    return values


class DepositSql(Repository):
    def _insert_once(self, table: Table, values: dict[str, Any]) -> bool:
        """Insert inside a savepoint: a unique key already taken answers False and leaves the transaction usable."""
        try:
            with self.c.begin_nested():
                self.c.execute(insert(table).values(**values))
        except IntegrityError:
            return False
        return True

    def _save(self, table: Table, row: Any) -> bool:
        """Compare-and-set on the version the row was read at; the row's version moves on by one."""
        c = table.c
        values = {k: v for k, v in dict(row).items() if k != "id"}
        values["version"] = int(row["version"]) + 1
        done = self.c.execute(
            update(table).where(c.id == row["id"], c.version == row["version"]).values(**values)
        ).rowcount
        if done == 1:
            row["version"] = values["version"]
        return done == 1

    def add_terms(self, row: TermsRow) -> bool:
        return self._insert_once(tables.deposit_terms, dict(row))

    def get_terms(self, merchant_id: str, terms_id: str) -> TermsRow | None:
        q = select(tables.deposit_terms).where(T.id == terms_id, T.merchant_id == merchant_id)
        return cast(TermsRow | None, first_row(self.c, q))

    def list_terms(self, merchant_id: str) -> list[TermsRow]:
        q = select(tables.deposit_terms).where(T.merchant_id == merchant_id).order_by(T.name)
        return cast(list[TermsRow], all_rows(self.c, q))

    def add_deposit(self, row: DepositRow) -> bool:
        return self._insert_once(tables.deposits, dict(row))

    def get_deposit(self, merchant_id: str, deposit_id: str) -> DepositRow | None:
        q = select(tables.deposits).where(D.id == deposit_id, D.merchant_id == merchant_id)
        return cast(DepositRow | None, first_row(self.c, q))

    def deposit_of_sale(self, sale_id: str, *, for_update: bool = False) -> DepositRow | None:
        q = select(tables.deposits).where(D.sale_id == sale_id)
        return cast(DepositRow | None, first_row(self.c, q.with_for_update() if for_update else q))

    def list_deposits(self, merchant_id: str, status: str | None, limit: int) -> list[DepositRow]:
        q = select(tables.deposits).where(D.merchant_id == merchant_id)
        if status:
            q = q.where(D.status == status)
        return cast(list[DepositRow], all_rows(self.c, q.order_by(D.created_at.desc(), D.id.desc()).limit(limit)))

    def save_deposit(self, row: DepositRow) -> bool:
        return self._save(tables.deposits, row)

    def overdue(
        self, merchant_id: str | None, today: date, limit: int, *, unflagged_only: bool = False
    ) -> list[DepositRow]:
        q = select(tables.deposits).where(D.status == "held", D.held_until < today)
        if merchant_id is not None:
            q = q.where(D.merchant_id == merchant_id)
        if unflagged_only:
            q = q.where(D.overdue_flagged_at.is_(None))
        return cast(list[DepositRow], all_rows(self.c, q.order_by(D.held_until, D.id).limit(limit)))

    def add_proposal(self, row: ProposalRow) -> None:
        self.c.execute(insert(tables.deposit_proposals).values(**_proposal_values(row)))

    def get_proposal(self, merchant_id: str, proposal_id: str) -> ProposalRow | None:
        q = select(tables.deposit_proposals).where(P.id == proposal_id, P.merchant_id == merchant_id)
        row = first_row(self.c, q)
        return _proposal(row) if row else None

    def proposals_of(self, deposit_id: str) -> list[ProposalRow]:
        q = select(tables.deposit_proposals).where(P.deposit_id == deposit_id).order_by(P.created_at, P.id)
        return [_proposal(r) for r in all_rows(self.c, q)]

    def save_proposal(self, row: ProposalRow) -> bool:
        values = _proposal_values(row)
        done = self._save(tables.deposit_proposals, values)
        row["version"] = values["version"]
        return done

    def add_payout(self, row: PayoutRow) -> None:
        self.c.execute(insert(tables.deposit_payouts).values(**row))

    def get_payout(self, merchant_id: str, payout_id: str) -> PayoutRow | None:
        q = select(tables.deposit_payouts).where(Y.id == payout_id, Y.merchant_id == merchant_id)
        return cast(PayoutRow | None, first_row(self.c, q))

    def payouts_of(self, deposit_id: str) -> list[PayoutRow]:
        q = select(tables.deposit_payouts).where(Y.deposit_id == deposit_id).order_by(Y.created_at, Y.id)
        return cast(list[PayoutRow], all_rows(self.c, q))

    def save_payout(self, row: PayoutRow) -> bool:
        return self._save(tables.deposit_payouts, row)

    def desk(self, merchant_id: str, chosen: DeskFilter) -> list[DeskDepositRow]:
        """The store's list: deposits with their payment's store, numbers and payer, newest first."""
        q = (
            select(tables.deposits, S.store_id, S.voucher_no, S.order_no, S.payer_masked, S.paid_at)
            .join(tables.sales, S.id == D.sale_id)
            .where(D.merchant_id == merchant_id)
        )
        for column, value in ((S.store_id, chosen.store_id), (D.kind, chosen.kind), (D.status, chosen.status)):
            if value:
                q = q.where(column == value)
        q = q.order_by(D.created_at.desc(), D.id.desc()).limit(chosen.limit)
        return cast(list[DeskDepositRow], all_rows(self.c, q))

    def open_proposals(self, merchant_id: str, store_id: str, limit: int) -> list[ProposalRow]:
        """Proposals still waiting for someone to accept them, oldest first."""
        q = select(tables.deposit_proposals).where(P.merchant_id == merchant_id, P.status == "proposed")
        q = _of_store(q, P.deposit_id, store_id).order_by(P.created_at, P.id).limit(limit)
        return [_proposal(r) for r in all_rows(self.c, q)]

    def awaiting_payouts(self, merchant_id: str, store_id: str, limit: int) -> list[PayoutRow]:
        """Penalty transfers not yet confirmed paid (nor cancelled), oldest first."""
        q = select(tables.deposit_payouts).where(Y.merchant_id == merchant_id, Y.status == "awaiting_transfer")
        q = _of_store(q, Y.deposit_id, store_id).order_by(Y.created_at, Y.id).limit(limit)
        return cast(list[PayoutRow], all_rows(self.c, q))
