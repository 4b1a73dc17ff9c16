"""Small builders the tests share."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from typing import Any

from posrefund.domain.sale import Sale
from posrefund.service import sales
from posrefund.service.deps import Deps
from posrefund.service.sales import SaleInput
from tests.conftest import Merchant

_voucher = itertools.count(1)


def sale_input(m: Merchant, now: datetime, **kw: Any) -> SaleInput:
    n = next(_voucher)
    base: dict[str, Any] = {
        "terminal_id": m.terminal_id,
        "voucher_no": f"{n:06d}",
        "rrn": f"{n:012d}",
        "batch_no": "000001",
        "auth_code": "A1B2C3",
        "order_no": f"ORD{n:08d}",
        "channel": "wechat",
        "kind": "sale",
        "amount_fen": 10_000,
        "fee_fen": 38,
        "currency": "CNY",
        "paid_at": now - timedelta(days=1),
        "payer_masked": "o***ab",
    }
    base.update(kw)
    return SaleInput(**base)


def new_sale(deps: Deps, m: Merchant, **kw: Any) -> Sale:
    return sales.record_sale(deps, m.actors["cashier"], sale_input(m, deps.clock.now(), **kw))


def sale_body(m: Merchant, now: datetime, **kw: Any) -> dict[str, Any]:
    inp = sale_input(m, now, **kw)
    body = {k: getattr(inp, k) for k in inp.__dataclass_fields__}
    body["paid_at"] = inp.paid_at.isoformat()
    return body
