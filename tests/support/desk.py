"""An acquirer export in a layout posrefund does not know out of the box (a 拉卡拉-style GBK file with a title row
above its header, one time column, its own type names), and the layout finance describes for it."""

from __future__ import annotations

from typing import Any

import pytest

from posrefund.config import Settings

LAYOUT: dict[str, Any] = {
    "columns": {
        "datetime": "交易时间",
        "merchant_no": "商户编号",
        "terminal_no": "终端编号",
        "card_no": "卡号",
        "kind": "交易类型",
        "amount": "金额(元)",
        "fee": "手续费(元)",
        "voucher_no": "流水号",
        "rrn": "参考号",
        "batch_no": "批次号",
    },
    "kinds": {"sale": ["刷卡消费"], "refund": ["刷卡退货"], "void": ["消费撤销"]},
    "encoding": "gbk",
    "header_rows": 2,
    "datetime_format": "%Y-%m-%d %H:%M:%S",
}
HEADER = "交易时间,商户编号,终端编号,卡号,交易类型,金额(元),手续费(元),流水号,参考号,批次号"
LINES = [
    "2026-11-20 09:30:15,898310058120001,10000001,622202******0128,刷卡消费,128.00,0.77,000101,093015123456,000012",
    "2026-11-20 10:15:02,898310058120001,10000001,436742******5678,刷卡退货,-50.00,-0.30,000103,110344111222,000012",
    "2026-11-20 11:02:40,898310058120001,10000002,622848******4321,刷卡消费,88.80,0.53,000104,113001333444,000012",
]
BAD_LINE = "2026/11/20 11:00,898310058120001,10000002,622848******4321,预授权,abc,0.00,000105,113001333445,000012"


def export(*lines: str) -> bytes:
    """The file as the acquirer sends it: GBK, a title row, the header, the lines, a 合计 footer."""
    rows = ["拉卡拉商户交易明细（2026-11-20）", HEADER, *(lines or LINES), "合计,,,,,166.80,1.00,,,"]
    return ("\r\n".join(rows) + "\r\n").encode("gbk")


def cli_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI pointed at the test's database and keys."""
    for name, value in (
        ("POSREFUND_DATABASE_URL", settings.database_url),
        ("POSREFUND_SECRET_KEY", settings.secret_key),
        ("POSREFUND_PII_KEY", settings.pii_key),
        ("POSREFUND_DATA_DIR", str(settings.data_dir)),
        ("POSREFUND_LOG_FILE", str(settings.log_file)),
    ):
        monkeypatch.setenv(name, value)
