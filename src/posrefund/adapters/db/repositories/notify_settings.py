"""A merchant's notification settings: message templates and the gateways that deliver them."""

from __future__ import annotations

from typing import cast

from sqlalchemy import delete, insert, select

from posrefund.adapters.db import tables as t
from posrefund.adapters.db.repositories.rows import Repository, all_rows, first_row
from posrefund.ports import GatewayRow, MerchantContactRow, TemplateRow

_T, _G, _MC = t.notify_templates.c, t.notify_gateways.c, t.merchant_contacts.c


class NotifySettingsSql(Repository):
    def template(self, merchant_id: str, event: str, language: str) -> tuple[str, str] | None:
        q = select(_T.subject, _T.body).where(_T.merchant_id == merchant_id, _T.event == event, _T.language == language)
        r = self.c.execute(q).first()
        return (str(r.subject), str(r.body)) if r else None

    def templates(self, merchant_id: str) -> list[TemplateRow]:
        q = select(t.notify_templates).where(_T.merchant_id == merchant_id).order_by(_T.event, _T.language)
        return cast(list[TemplateRow], all_rows(self.c, q))

    def put_template(self, row: TemplateRow) -> None:
        self.delete_template(row["merchant_id"], row["event"], row["language"])
        self.c.execute(insert(t.notify_templates).values(**row))

    def delete_template(self, merchant_id: str, event: str, language: str) -> bool:
        q = delete(t.notify_templates).where(_T.merchant_id == merchant_id, _T.event == event, _T.language == language)
        return bool(self.c.execute(q).rowcount)

    def gateway(self, merchant_id: str, kind: str) -> GatewayRow | None:
        q = select(t.notify_gateways).where(_G.merchant_id == merchant_id, _G.kind == kind)
        return cast(GatewayRow | None, first_row(self.c, q))

    def gateways(self, merchant_id: str) -> list[GatewayRow]:
        q = select(t.notify_gateways).where(_G.merchant_id == merchant_id).order_by(_G.kind)
        return cast(list[GatewayRow], all_rows(self.c, q))

    def put_gateway(self, row: GatewayRow) -> None:
        self.c.execute(delete(t.notify_gateways).where(_G.merchant_id == row["merchant_id"], _G.kind == row["kind"]))
        self.c.execute(insert(t.notify_gateways).values(**row))

    def merchant_contact(self, merchant_id: str) -> MerchantContactRow | None:
        q = select(t.merchant_contacts).where(_MC.merchant_id == merchant_id)
        return cast(MerchantContactRow | None, first_row(self.c, q))

    def put_merchant_contact(self, row: MerchantContactRow) -> None:
        self.c.execute(delete(t.merchant_contacts).where(_MC.merchant_id == row["merchant_id"]))
        self.c.execute(insert(t.merchant_contacts).values(**row))
