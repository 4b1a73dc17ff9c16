"""How to reach a case's customer (contacts, phone opt-outs) and the log of every contact made."""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import insert, select, update

from posrefund.adapters.db import tables as t
from posrefund.adapters.db.repositories.rows import Repository, all_rows, first_row
from posrefund.ports import ContactEntryRow, ContactRow

_NC, _OO, _CL = t.notify_contacts.c, t.notify_optouts.c, t.contact_log.c


class ContactSql(Repository):
    def contact(self, case_id: str) -> ContactRow | None:
        return cast(ContactRow | None, first_row(self.c, select(t.notify_contacts).where(_NC.case_id == case_id)))

    def put_contact(self, row: ContactRow) -> None:
        done = self.c.execute(update(t.notify_contacts).where(_NC.case_id == row["case_id"]).values(**row))
        if done.rowcount == 0:
            self.c.execute(insert(t.notify_contacts).values(**row))

    def phone_opted_out(self, merchant_id: str, phone_index: str) -> bool:
        q = select(_OO.phone_index).where(_OO.merchant_id == merchant_id, _OO.phone_index == phone_index)
        return self.c.execute(q).first() is not None

    def put_phone_optout(self, merchant_id: str, phone_index: str, source: str, now: datetime) -> None:
        if not self.phone_opted_out(merchant_id, phone_index):
            self.c.execute(
                insert(t.notify_optouts).values(
                    merchant_id=merchant_id, phone_index=phone_index, source=source, created_at=now
                )
            )

    def add_contact_entry(self, row: ContactEntryRow) -> None:
        self.c.execute(insert(t.contact_log).values(**row))

    def contact_entries(self, merchant_id: str, case_id: str) -> list[ContactEntryRow]:
        q = select(t.contact_log).where(_CL.merchant_id == merchant_id, _CL.case_id == case_id)
        return cast(list[ContactEntryRow], all_rows(self.c, q.order_by(_CL.at, _CL.id)))
