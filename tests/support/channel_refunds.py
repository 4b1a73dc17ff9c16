"""A merchant's sales and files of refunds the channel made, for the refund import tests (service, CLI, API)."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

from posrefund.adapters.tabular import read_rows
from posrefund.service import sales_import
from posrefund.service.deps import Deps
from tests.conftest import World

SHANGHAI = ZoneInfo("Asia/Shanghai")
SALES = [
    "terminal_id,voucher_no,rrn,batch_no,auth_code,order_no,channel,kind,amount_fen,fee_fen,currency,paid_at,payer_masked",
    "MA01,000001,000000000001,000001,AB12CD,C1,card,sale,1000,6,CNY,2026-11-19T10:00:00+08:00,622202******1234",
    "MA01,,,,,W1,wechat,sale,2000,8,CNY,2026-11-19 10:05:00,o***ab",
]
HEADER = (
    "refund_no,channel,order_no,terminal_id,batch_no,voucher_no,rrn,amount_fen,refunded_at,channel_refund_id,kind,note"
)
GOOD = [
    "RT1,card,,MA01,000001,000001,,400,2026-11-19 15:00:00,000000000091,refund,退货 at the till",
    "RW1,wechat,W1,,,,,2000,2026-11-19T08:00:00Z,50300000001,refund,",
]
BAD = [
    "RT2,card,,,,,000000000001,300,2026-11-19 16:00:00,,refund,",  # good: by RRN, 600 left → 300
    "RT3,wechat,ZZ9,,,,,100,2026-11-19 16:00:00,,refund,",  # no such sale
    "RT4,card,,MA01,000001,000001,,400,2026-11-19 16:00:00,,refund,",  # 300 left after RT2
    "RT1,card,,MA01,000001,000001,,500,2026-11-19 16:00:00,,refund,",  # RT1 is another refund
    "RT5,card,,MA01,000001,000001,,x,2026-11-19 16:00:00,,refund,",  # not an amount
    "RT6,card,,MA01,000001,000001,,100,2026-11-19 16:00:00,,refund,card 4111111111111111",  # a PAN in the note
    "RT7,cash,W1,,,,,100,2026-11-19 16:00:00,,refund,",  # not a channel
]


def file_of(path: Path, rows: list[str]) -> Path:
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return path


def seed_sales(deps: Deps, world: World, tmp_path: Path) -> None:
    path = tmp_path / "sales.csv"
    path.write_text("\n".join(SALES) + "\n", encoding="utf-8")
    rows = sales_import.read_sales(read_rows(path), {"MA01": world.a.terminal_id}, SHANGHAI)
    sales_import.import_sales(deps, world.a.actors["admin"], rows)
