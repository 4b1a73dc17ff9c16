"""Small builders the tests share."""

from __future__ import annotations

import itertools
from collections.abc import Mapping
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


def captured_again(row: Mapping[str, Any], seconds: int = 40) -> dict[str, Any]:
    """A ledger sale row as the channel's second capture of that same sale: the same order and voucher no.,
    a new channel reference, ``seconds`` later. Give ``from_ledger`` both rows and its bill charges the sale
    twice — a duplicate charge (a second sale of ours for the same payer and amount is a repeat purchase)."""
    return {
        **row,
        "id": f"{row['id']}-again",
        "rrn": f"D{str(row['rrn'])[-11:]}",
        "paid_at": row["paid_at"] + timedelta(seconds=seconds),
    }


def sale_body(m: Merchant, now: datetime, **kw: Any) -> dict[str, Any]:
    inp = sale_input(m, now, **kw)
    body = {k: getattr(inp, k) for k in inp.__dataclass_fields__}
    body["paid_at"] = inp.paid_at.isoformat()
    return body
