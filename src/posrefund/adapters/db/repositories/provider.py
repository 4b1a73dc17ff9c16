"""The provider's desk: its seller record, issued terminals, device returns and their notices."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import insert, select, update

from posrefund.adapters.db import tables as t
from posrefund.adapters.db.repositories.rows import Repository, all_rows, first_row
from posrefund.ports.provider import DeskRow, DeviceRow, NoticeRow, ReturnRow

_V = t.provider_devices.c
_R = t.device_returns.c
_N = t.provider_notices.c


class ProviderSql(Repository):
    def add_desk(self, row: DeskRow) -> None:
        self.c.execute(insert(t.provider_desks).values(**row))

    def desk(self, provider_id: str) -> DeskRow | None:
        q = select(t.provider_desks).where(t.provider_desks.c.provider_id == provider_id)
        return cast(DeskRow | None, first_row(self.c, q))

    def add_device(self, row: DeviceRow) -> None:
        self.c.execute(insert(t.provider_devices).values(**row))

    def device(self, provider_id: str, device_id: str) -> DeviceRow | None:
        q = select(t.provider_devices).where(_V.id == device_id, _V.provider_id == provider_id)
        return cast(DeviceRow | None, first_row(self.c, q))

    def device_by_sn(self, sn: str) -> DeviceRow | None:
        return cast(DeviceRow | None, first_row(self.c, select(t.provider_devices).where(_V.sn == sn)))

    def list_devices(self, provider_id: str, merchant_id: str | None, limit: int) -> list[DeviceRow]:
        q = select(t.provider_devices).where(_V.provider_id == provider_id)
        if merchant_id is not None:
            q = q.where(_V.merchant_id == merchant_id)
        return cast(list[DeviceRow], all_rows(self.c, q.order_by(_V.created_at.desc(), _V.id).limit(limit)))

    def save_device(self, device_id: str, version: int, **values: Any) -> bool:
        """Compare-and-set on the version: a lost race changes nothing and answers False."""
        q = update(t.provider_devices).where(_V.id == device_id, _V.version == version)
        return bool(self.c.execute(q.values(version=version + 1, **values)).rowcount)

    def add_return(self, row: ReturnRow) -> None:
        self.c.execute(insert(t.device_returns).values(**row))

    def get_return(self, return_id: str) -> ReturnRow | None:
        return cast(ReturnRow | None, first_row(self.c, select(t.device_returns).where(_R.id == return_id)))

    def return_by_case(self, case_id: str) -> ReturnRow | None:
        """The device return a refund case pays, if it is one."""
        q = select(t.device_returns).where(_R.refund_case_id == case_id)
        return cast(ReturnRow | None, first_row(self.c, q))

    def list_returns(
        self, provider_id: str, merchant_id: str | None, statuses: list[str] | None, limit: int
    ) -> list[ReturnRow]:
        q = select(t.device_returns).where(_R.provider_id == provider_id)
        if merchant_id is not None:
            q = q.where(_R.merchant_id == merchant_id)
        if statuses is not None:
            q = q.where(_R.status.in_(statuses))
        return cast(list[ReturnRow], all_rows(self.c, q.order_by(_R.opened_at, _R.id).limit(limit)))

    def providers_with_open_returns(self) -> list[str]:
        """Providers with a device received and not yet decided: the ones the decision clock runs for."""
        q = select(_R.provider_id).where(_R.status == "received").distinct()
        return [str(r[0]) for r in self.c.execute(q)]

    def save_return(self, return_id: str, version: int, **values: Any) -> bool:
        q = update(t.device_returns).where(_R.id == return_id, _R.version == version)
        return bool(self.c.execute(q.values(version=version + 1, **values)).rowcount)

    def add_notice(self, row: NoticeRow) -> None:
        self.c.execute(insert(t.provider_notices).values(**row))

    def notices(self, provider_id: str, merchant_id: str | None, audience: str, limit: int) -> list[NoticeRow]:
        q = select(t.provider_notices).where(_N.provider_id == provider_id, _N.audience == audience)
        if merchant_id is not None:
            q = q.where(_N.merchant_id == merchant_id)
        return cast(list[NoticeRow], all_rows(self.c, q.order_by(_N.id.desc()).limit(limit)))
