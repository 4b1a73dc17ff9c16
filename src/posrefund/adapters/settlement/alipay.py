"""Alipay merchant bill (业务明细) CSV: GBK text with ``#`` comment lines before and after the table."""

from __future__ import annotations

import re
from collections.abc import Iterator

from posrefund.adapters.settlement.model import Kind, ParsedLine, SettlementLine, Tally
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
# The footer's totals: "#交易合计：3笔，商家实收共：1288.56元，…" and, when there were refunds,
# "#退款合计：2笔，商家实收退款共：-118.50元，…".
_FOOTER = re.compile(r"#(交易|退款)合计：(\d+)笔，商家实收(?:退款)?共：?([^元，,]*)元")
_KIND_ZH = {"sale": "交易", "refund": "退款"}
_RECEIVED = "商家实收（元）"
_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


def parse_alipay_bill(source: BinarySource, encoding: str = "gbk", tally: Tally | None = None) -> Iterator[ParsedLine]:
    """Yield one ``SettlementLine`` or ``BadLine`` per data line of an Alipay bill, streaming.

    The bill shows refunds as negative amounts; they come out positive with kind ``refund``. The
    merchant number is the Alipay account (PID) from the ``#账号：[…]`` comment. 服务费 is printed
    negative when charged, so its sign is flipped to match ``fee_fen`` (positive = charged). ``tally`` is given
    the footer's totals (``#交易合计``, ``#退款合计``: lines and 商家实收) and what the lines add up to.
    """
    account = ""
    totals = tally if tally is not None else Tally("")
    totals.summary = "#交易合计：…"

    def comment(text: str, header_seen: bool, line_no: int) -> bool:
        nonlocal account
        if not text.startswith("#"):
            return False
        compact = text.replace(" ", "")
        if match := _ACCOUNT.match(compact):
            account = match.group(1)
        elif header_seen and (footer := _FOOTER.match(compact)):
            _claim(totals, line_no, footer)
        return True

    def line_of(row: list[str], columns: dict[str, int], line_no: int, raw: bytes) -> SettlementLine:
        line = _alipay_line(row, columns, account, line_no, raw)
        received = field_reader(row, columns, str.strip)(_RECEIVED)
        name = _KIND_ZH[line.kind]
        totals.add(f"{name}合计 笔数", 1)
        totals.add(f"{name}合计 商家实收", yuan_to_fen(received) if received else 0)
        return line

    yield from read_named_table(source, encoding, _REQUIRED, "an Alipay bill", comment, line_of)


def _claim(totals: Tally, line_no: int, footer: re.Match[str]) -> None:
    """One footer line's count and 商家实收; the 交易合计 line is the one that must be there."""
    name = footer.group(1)
    try:
        received = yuan_to_fen(footer.group(3))
    except LineError:
        return
    claimed = {**totals.claimed, f"{name}合计 笔数": int(footer.group(2)), f"{name}合计 商家实收": received}
    totals.counts.add(f"{name}合计 笔数")
    if name == "交易":
        totals.claim(line_no, claimed)
    else:
        totals.claimed = claimed


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
