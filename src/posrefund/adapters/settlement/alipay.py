"""Alipay merchant bill (业务明细) CSV: GBK text with ``#`` comment lines before and after the table."""

from __future__ import annotations

import re
from collections.abc import Iterator

from posrefund.adapters.settlement.model import Kind, ParsedLine, SettlementLine
from posrefund.adapters.settlement.reading import (
    BinarySource,
    LineError,
    field_reader,
    mask_card_number,
    parse_local_time,
    raw_hash,
    read_named_table,
    yuan_to_fen,
)

ALIPAY_COLUMNS = (
    "支付宝交易号",
    "商户订单号",
    "业务类型",
    "商品名称",
    "创建时间",
    "完成时间",
    "门店编号",
    "门店名称",
    "操作员",
    "终端号",
    "对方账户",
    "订单金额（元）",
    "商家实收（元）",
    "支付宝红包（元）",
    "集分宝（元）",
    "支付宝优惠（元）",
    "商家优惠（元）",
    "券核销金额（元）",
    "券名称",
    "商家红包消费金额（元）",
    "卡消费金额（元）",
    "退款批次号/请求号",
    "服务费（元）",
    "分润（元）",
    "备注",
)
_REQUIRED = ("支付宝交易号", "商户订单号", "业务类型", "完成时间", "订单金额（元）")
_KINDS: dict[str, Kind] = {"交易": "sale", "退款": "refund"}
_ACCOUNT = re.compile(r"#账号：\[(\d+)\]")
_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


def parse_alipay_bill(source: BinarySource, encoding: str = "gbk") -> Iterator[ParsedLine]:
    """Yield one ``SettlementLine`` or ``BadLine`` per data line of an Alipay bill, streaming.

    The bill shows refunds as negative amounts; they come out positive with kind ``refund``. The
    merchant number is the Alipay account (PID) from the ``#账号：[…]`` comment. 服务费 is printed
    negative when charged, so its sign is flipped to match ``fee_fen`` (positive = charged).
    """
    account = ""

    def comment(text: str, header_seen: bool) -> bool:
        nonlocal account
        if not text.startswith("#"):
            return False
        if match := _ACCOUNT.match(text.replace(" ", "")):
            account = match.group(1)
        return True

    def line_of(row: list[str], columns: dict[str, int], line_no: int, raw: bytes) -> SettlementLine:
        return _alipay_line(row, columns, account, line_no, raw)

    yield from read_named_table(source, encoding, _REQUIRED, "an Alipay bill", comment, line_of)


def _alipay_line(row: list[str], columns: dict[str, int], account: str, line_no: int, raw: bytes) -> SettlementLine:
    # Alipay pads every field with a tab so spreadsheets keep long numbers as text; strip() removes it.
    get = field_reader(row, columns, str.strip)

    kind_text = get("业务类型")
    kind = _KINDS.get(kind_text)
    if kind is None:
        raise LineError(f"unknown 业务类型 {kind_text!r}")
    signed = yuan_to_fen(get("订单金额（元）"))
    if signed == 0 or (signed < 0) != (kind == "refund"):
        raise LineError(f"amount {get('订单金额（元）')!r} does not fit 业务类型 {kind_text}")
    fee = get("服务费（元）")
    # 订单金额 is the whole order (ours); 商家实收 what is settled after the discounts the merchant funds.
    received = abs(yuan_to_fen(get("商家实收（元）") or "0"))
    return SettlementLine(
        source="alipay",
        kind=kind,
        line_no=line_no,
        occurred_at=parse_local_time(get("完成时间") or get("创建时间"), _TIME_FORMAT),
        amount_fen=abs(signed),
        fee_fen=-yuan_to_fen(fee) if fee else 0,
        currency="CNY",
        merchant_no=account,
        terminal_no=get("终端号"),
        voucher_no="",
        rrn="",
        channel_trade_no=get("支付宝交易号"),
        merchant_order_no=get("商户订单号"),
        channel_refund_no="",
        merchant_refund_no=get("退款批次号/请求号") if kind == "refund" else "",
        refund_status="SUCCESS" if kind == "refund" else "",
        payer_masked=mask_card_number(get("对方账户")),
        raw_hash=raw_hash(raw),
        settled_fen=received or None,
    )
