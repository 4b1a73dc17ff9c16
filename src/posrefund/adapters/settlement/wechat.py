"""WeChat Pay trade bill (交易账单 / 对账单, bill type ALL) as downloaded from the merchant platform or API.

Every data field is prefixed with a backtick so spreadsheets keep long numbers as text; the file
ends with a summary header (总交易单数,…) and one summary line, which are not transactions.
"""

from __future__ import annotations

from collections.abc import Iterator

from posrefund.adapters.settlement.model import Kind, ParsedLine, SettlementLine, Tally
from posrefund.adapters.settlement.reading import (
    BinarySource,
    LineError,
    NamedTable,
    field_reader,
    parse_local_time,
    raw_hash,
    read_named_table,
    split_csv,
    yuan_to_fen,
)

WECHAT_COLUMNS = (
    "交易时间",
    "公众账号ID",
    "商户号",
    "特约商户号",
    "设备号",
    "微信订单号",
    "商户订单号",
    "用户标识",
    "交易类型",
    "交易状态",
    "付款银行",
    "货币种类",
    "应结订单金额",
    "代金券金额",
    "微信退款单号",
    "商户退款单号",
    "退款金额",
    "充值券退款金额",
    "退款类型",
    "退款状态",
    "商品名称",
    "商户数据包",
    "手续费",
    "费率",
    "订单金额",
    "申请退款金额",
    "费率备注",
)
_REQUIRED = ("交易时间", "商户号", "微信订单号", "商户订单号", "交易状态", "应结订单金额", "退款金额", "手续费")
SUMMARY_START = "总交易单数"
# The summary's totals: summary column → (the bill's column it adds up, over refund rows (True) or the others).
# Copies differ on whether 应结订单总金额 / 订单总金额 also add up the refund rows' order amounts: either reading
# is taken (``Tally.also``), any other figure refuses the file.
TOTALS = {
    "应结订单总金额": ("应结订单金额", False),
    "订单总金额": ("订单金额", False),
    "退款总金额": ("退款金额", True),
    "充值券退款总金额": ("充值券退款金额", True),
    "申请退款总金额": ("申请退款金额", True),
}
FEES = ("手续费总金额", "手续费")
_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


def parse_wechat_bill(
    source: BinarySource, encoding: str = "utf-8", tally: Tally | None = None
) -> Iterator[ParsedLine]:
    """Yield one ``SettlementLine`` or ``BadLine`` per transaction line of a WeChat Pay bill, streaming.

    A 交易状态 of REFUND makes a refund line (amount from 申请退款金额, else 退款金额), REVOKED a void,
    anything else a sale (amount from 订单金额, else 应结订单金额); the settled amount (the fee's base) is
    应结订单金额 / 退款金额. Columns are found by header name, so the older
    and newer layouts (with or without 费率备注 etc.) both work. ``tally`` is given the summary line's totals
    and what the lines add up to.
    """
    table = wechat_table(tally if tally is not None else Tally(""))
    yield from read_named_table(source, encoding, _REQUIRED, table.bill, table.aside, table.line_of)


def wechat_table(totals: Tally) -> NamedTable:
    """The bill's reading one line at a time (``parse_wechat_bill``; the block reader's lines it does not clear),
    its summary and lines tallied in ``totals``."""
    totals.summary = "总交易单数…"
    totals.counts.add(SUMMARY_START)
    totals.grand_count = SUMMARY_START
    names: list[str] = []

    def summary(text: str, header_seen: bool, line_no: int) -> bool:
        # The summary header and its single data line end the transactions.
        if names:
            values = _summary_values(names, text) if text.strip() and not totals.summary_line else None
            if values is not None:
                totals.claim(line_no, values)
            return True
        if header_seen and text.startswith(SUMMARY_START):
            names.extend(name.strip() for name in split_csv(text))
            return True
        return False

    def line_of(row: list[str], columns: dict[str, int], line_no: int, raw: bytes) -> SettlementLine:
        line = _wechat_line(row, columns, line_no, raw)
        get = field_reader(row, columns, _unquoted)
        for total, (column, of_refunds) in TOTALS.items():
            value = yuan_to_fen(get(column) or "0")
            if (line.kind == "refund") == of_refunds:
                totals.add(total, value)
            totals.add(total, value, also=True)  # the same column over every line
        totals.add(FEES[0], yuan_to_fen(get(FEES[1]) or "0"))
        return line

    return NamedTable(_REQUIRED, "a WeChat Pay bill", summary, line_of)


def _summary_values(names: list[str], text: str) -> dict[str, int] | None:
    """The summary line's totals by the summary header's names; None when the line is not whole (fewer values
    than names, or one that is not a number): a summary cut short vouches for nothing."""
    try:
        fields = split_csv(text)
        if len(fields) != len(names):
            return None
        return {
            name: int(_unquoted(value)) if name == SUMMARY_START else yuan_to_fen(_unquoted(value))
            for name, value in zip(names, fields, strict=True)
        }
    except (LineError, ValueError):
        return None


def _wechat_line(row: list[str], columns: dict[str, int], line_no: int, raw: bytes) -> SettlementLine:
    get = field_reader(row, columns, _unquoted)

    status = get("交易状态")
    kind: Kind = "refund" if status == "REFUND" else "void" if status == "REVOKED" else "sale"
    # Ours is the whole amount (订单金额 / 申请退款金额); the channel settles it less the merchant-funded
    # coupons (应结订单金额 / 退款金额, which older layouts alone have and a refund in flight shows as 0.00).
    whole, settled = ("申请退款金额", "退款金额") if kind == "refund" else ("订单金额", "应结订单金额")
    paid = abs(yuan_to_fen(get(settled) or "0"))
    amount = abs(yuan_to_fen(get(whole) or "0")) or paid
    if amount == 0:
        raise LineError("amount is zero")
    fee = get("手续费")
    sub_merchant = get("特约商户号")
    return SettlementLine(
        source="wechat",
        kind=kind,
        line_no=line_no,
        occurred_at=parse_local_time(get("交易时间"), _TIME_FORMAT),
        amount_fen=amount,
        fee_fen=yuan_to_fen(fee) if fee else 0,
        currency=get("货币种类") or "CNY",
        # In service-provider mode the transaction belongs to the sub-merchant (特约商户号).
        merchant_no=sub_merchant if sub_merchant not in ("", "0") else get("商户号"),
        terminal_no=get("设备号"),
        voucher_no="",
        rrn="",
        channel_trade_no=get("微信订单号"),
        merchant_order_no=get("商户订单号"),
        channel_refund_no=get("微信退款单号") if kind == "refund" else "",
        merchant_refund_no=get("商户退款单号") if kind == "refund" else "",
        refund_status=get("退款状态") if kind == "refund" else "",
        payer_masked=mask_openid(get("用户标识")),
        raw_hash=raw_hash(raw),
        settled_fen=paid or None,
        card_type=wallet_card_type(get("付款银行")),
    )


def _unquoted(field: str) -> str:
    """A field without the backtick WeChat puts before it (and the spaces around)."""
    return field.strip().removeprefix("`").strip()


def mask_openid(openid: str) -> str:
    """The payer's openid, masked like the sales' payer (first 2, last 2): enough to see the same payer
    twice in one day (duplicate charges), not enough to identify the person."""
    return f"{openid[:2]}***{openid[-2:]}" if len(openid) > 4 else ""


def wallet_card_type(bank: str) -> str:
    """付款银行 names what paid: ``CMB_DEBIT`` / ``ICBC_CREDIT`` a bank card, ``OTHERS`` (零钱) the wallet."""
    if bank.endswith("_DEBIT"):
        return "debit"
    if bank.endswith("_CREDIT"):
        return "credit"
    return "wallet" if bank in ("OTHERS", "零钱", "零钱通") else ""
