"""An acquirer's settlement-file layout as data (对账单映射): which column holds which of our fields, how its
dates, times and amounts are written, which encoding, how many header rows, how a refund is signed.

Acquirers (银联商务, 拉卡拉, banks' acquiring departments…) all send "a CSV with Chinese headers", never quite
the same one, and they change it without notice: finance must be able to describe a new layout without a
release. A layout is checked here, before it is stored, so a typo in a field name is refused with the field it
names instead of silently dropping a column at the next import. The built-in layouts below are plausible
examples of common exports; their headers are invented (see docs/recon-desk.md), not copied from any acquirer.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from posrefund.domain.errors import Invalid

# Fields of a card settlement line a layout may name a column for.
MAPPABLE_FIELDS = frozenset(
    {
        "date",
        "time",
        "datetime",
        "merchant_no",
        "terminal_no",
        "card_no",
        "kind",
        "amount",
        "fee",
        "currency",
        "voucher_no",
        "rrn",
        "batch_no",
        "auth_code",
        "channel_trade_no",
        "merchant_order_no",
        "merchant_refund_no",
        "card_type",  # optional: read when the file has it (the fee contract prices debit and credit apart)
    }
)
KINDS = ("sale", "refund", "void")
ENCODINGS = ("utf-8", "gbk", "gb18030")
AMOUNT_UNITS = ("yuan", "fen")
# How a line says it gives money back: by its 交易类型 (the amount's sign ignored), or by a minus sign on the
# amount when the layout has no type column (a type column, when mapped, still names voids).
SIGNS = ("kind", "negative_is_refund")
CHANNELS = ("card",)  # wallet bills (WeChat, Alipay) have one fixed layout each, read by their own parsers
_NAME = re.compile(r"^[A-Za-z0-9_\-\u4e00-\u9fff]{1,40}$")
_TIME_CODES = re.compile(r"%[^YmdHMS%]")
MAX_HEADER_ROWS = 10
MAX_TEXT = 60


@dataclass(frozen=True, slots=True)
class MappingSpec:
    """One stored layout. ``columns`` is field → column header (in the last of ``header_rows`` rows)."""

    columns: Mapping[str, str]
    kinds: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    encoding: str = "utf-8"
    delimiter: str = ","
    header_rows: int = 1
    date_format: str = "%Y%m%d"
    time_format: str = "%H%M%S"
    datetime_format: str = "%Y-%m-%d %H:%M:%S"
    amount_unit: str = "yuan"
    sign: str = "kind"
    currency: str = "CNY"
    skip_prefixes: tuple[str, ...] = ("合计", "总计", "#")

    def as_dict(self) -> dict[str, Any]:
        """The layout as stored (JSON) and as the API shows it."""
        return {
            "columns": dict(self.columns),
            "kinds": {k: list(v) for k, v in self.kinds.items()},
            "encoding": self.encoding,
            "delimiter": self.delimiter,
            "header_rows": self.header_rows,
            "date_format": self.date_format,
            "time_format": self.time_format,
            "datetime_format": self.datetime_format,
            "amount_unit": self.amount_unit,
            "sign": self.sign,
            "currency": self.currency,
            "skip_prefixes": list(self.skip_prefixes),
        }


def mapping_name(name: str) -> str:
    """A layout's name: letters, digits, Chinese, ``-`` and ``_``, at most 40."""
    value = name.strip()
    if not _NAME.match(value):
        raise Invalid("recon.mapping_bad_name", name=value[:40])
    return value


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_TEXT:
        raise Invalid("recon.mapping_bad_value", field=where)
    return value.strip()


def _columns(raw: Any) -> dict[str, str]:
    if not isinstance(raw, Mapping) or not raw:
        raise Invalid("recon.mapping_bad_value", field="columns")
    unknown = sorted(str(k) for k in raw if k not in MAPPABLE_FIELDS)
    if unknown:
        raise Invalid("recon.mapping_unknown_field", field=unknown[0][:40])
    columns = {str(k): _text(v, f"columns.{k}") for k, v in raw.items()}
    if "datetime" not in columns and not {"date", "time"} <= set(columns):
        raise Invalid("recon.mapping_missing_field", field="datetime")
    if "amount" not in columns:
        raise Invalid("recon.mapping_missing_field", field="amount")
    if len(set(columns.values())) != len(columns):
        raise Invalid("recon.mapping_bad_value", field="columns")
    return columns


def _kinds(raw: Any) -> dict[str, tuple[str, ...]]:
    if not isinstance(raw, Mapping):
        raise Invalid("recon.mapping_bad_value", field="kinds")
    out: dict[str, tuple[str, ...]] = {}
    for kind, values in raw.items():
        if kind not in KINDS:
            raise Invalid("recon.mapping_unknown_field", field=f"kinds.{str(kind)[:30]}")
        listed = [values] if isinstance(values, str) else values
        if not isinstance(listed, list | tuple) or not listed:
            raise Invalid("recon.mapping_bad_value", field=f"kinds.{kind}")
        out[str(kind)] = tuple(_text(v, f"kinds.{kind}") for v in listed)
    return out


def _choice(raw: Mapping[str, Any], key: str, allowed: tuple[str, ...], default: str) -> str:
    value = raw.get(key, default)
    if value not in allowed:
        raise Invalid("recon.mapping_bad_value", field=key)
    return str(value)


def _time_format(raw: Mapping[str, Any], key: str, default: str) -> str:
    value = _text(raw.get(key, default), key)
    if _TIME_CODES.search(value):
        raise Invalid("recon.mapping_bad_value", field=key)
    return value


def spec_from_dict(raw: Any) -> MappingSpec:
    """A layout from JSON (the API, the console's form, a TOML file), every key checked: an unknown key or
    field is refused with its name (``recon.mapping_unknown_field``), a bad value with where it is."""
    if not isinstance(raw, Mapping):
        raise Invalid("recon.mapping_bad_value", field="mapping")
    known = set(MappingSpec.__dataclass_fields__)
    unknown = sorted(str(k) for k in raw if k not in known)
    if unknown:
        raise Invalid("recon.mapping_unknown_field", field=unknown[0][:40])
    columns = _columns(raw.get("columns"))
    sign = _choice(raw, "sign", SIGNS, "kind")
    kinds = _kinds(raw.get("kinds", {}))
    if sign == "kind" and ("kind" not in columns or not kinds):
        raise Invalid("recon.mapping_missing_field", field="kind")
    header_rows = raw.get("header_rows", 1)
    if not isinstance(header_rows, int) or isinstance(header_rows, bool) or not 1 <= header_rows <= MAX_HEADER_ROWS:
        raise Invalid("recon.mapping_bad_value", field="header_rows")
    delimiter = raw.get("delimiter", ",")
    if delimiter not in (",", ";", "|", "\t"):
        raise Invalid("recon.mapping_bad_value", field="delimiter")
    currency = raw.get("currency", "CNY")
    if not isinstance(currency, str) or not re.fullmatch(r"[A-Z]{3}", currency):
        raise Invalid("recon.mapping_bad_value", field="currency")
    skip = raw.get("skip_prefixes", ["合计", "总计", "#"])
    if not isinstance(skip, list | tuple) or len(skip) > 10:
        raise Invalid("recon.mapping_bad_value", field="skip_prefixes")
    return MappingSpec(
        columns=columns,
        kinds=kinds,
        encoding=_choice(raw, "encoding", ENCODINGS, "utf-8"),
        delimiter=delimiter,
        header_rows=header_rows,
        date_format=_time_format(raw, "date_format", "%Y%m%d"),
        time_format=_time_format(raw, "time_format", "%H%M%S"),
        datetime_format=_time_format(raw, "datetime_format", "%Y-%m-%d %H:%M:%S"),
        amount_unit=_choice(raw, "amount_unit", AMOUNT_UNITS, "yuan"),
        sign=sign,
        currency=currency,
        skip_prefixes=tuple(_text(p, "skip_prefixes") for p in skip),
    )


_CARD_KINDS = {
    "sale": ("消费", "预授权完成"),
    "refund": ("退货", "退款"),
    "void": ("消费撤销", "撤销", "预授权完成撤销"),
}

# The layouts posrefund knows out of the box. ``standard`` is the one the card parser has always read; the
# other two are invented in the style of a 银联商务 merchant export (GBK, a title row above the header, 清算日期
# and 交易时间 together, amounts in yuan) and of a bank acquirer's export (amounts in fen, refunds carrying a
# minus sign and no type column, a semicolon between fields).
BUILT_IN: dict[str, MappingSpec] = {
    "standard": MappingSpec(
        columns={
            "date": "交易日期",
            "time": "交易时间",
            "merchant_no": "商户号",
            "terminal_no": "终端号",
            "card_no": "卡号",
            "kind": "交易类型",
            "amount": "交易金额",
            "fee": "手续费",
            "voucher_no": "凭证号",
            "rrn": "参考号",
            "batch_no": "批次号",
            "auth_code": "授权码",
            "card_type": "卡类型",
        },
        kinds=_CARD_KINDS,
    ),
    "chinaums": MappingSpec(
        columns={
            "datetime": "交易时间",
            "merchant_no": "商户编号",
            "terminal_no": "终端编号",
            "card_no": "交易卡号",
            "kind": "交易类别",
            "amount": "交易金额(元)",
            "fee": "手续费(元)",
            "voucher_no": "终端流水号",
            "rrn": "系统参考号",
            "batch_no": "批次号",
            "auth_code": "授权码",
            "merchant_order_no": "商户订单号",
        },
        kinds={"sale": ("消费", "扫码消费"), "refund": ("退货", "扫码退货"), "void": ("消费撤销",)},
        encoding="gbk",
        header_rows=2,
        datetime_format="%Y-%m-%d %H:%M:%S",
        skip_prefixes=("合计", "总计", "#", "注："),
    ),
    "bank-acquirer": MappingSpec(
        columns={
            "date": "交易日期",
            "time": "交易时刻",
            "merchant_no": "特约商户号",
            "terminal_no": "POS终端号",
            "card_no": "卡号(脱敏)",
            "amount": "交易本金(分)",
            "fee": "商户手续费(分)",
            "voucher_no": "POS流水号",
            "rrn": "检索参考号",
            "auth_code": "授权号",
        },
        delimiter=";",
        date_format="%Y/%m/%d",
        time_format="%H:%M:%S",
        amount_unit="fen",
        sign="negative_is_refund",
    ),
}
