"""The three settlement layouts written row by row, exactly as the parsers in ``adapters/settlement`` read them,
with the summary or footer figures each format repeats at its end adding up to its rows.

A row is a mapping from the format's column name to its text; the column order is the parser's own list, so a
column the parser learns about is written in its place. Totals: WeChat's summary line is the sum of each amount
column over every row (a refund row repeats its order's amounts, as WeChat's own sample bill does); Alipay's
footer counts and sums 商家实收 of the 交易 rows and the 退款 rows apart; the acquirer's 合计 line sums the signed
交易金额 and 手续费 of every row.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta, timezone
from pathlib import Path
from typing import Any, TextIO

from posrefund.adapters.settlement.alipay import ALIPAY_COLUMNS
from posrefund.adapters.settlement.card import DEFAULT_CARD_MAPPING
from posrefund.adapters.settlement.wechat import WECHAT_COLUMNS

SHANGHAI = timezone(timedelta(hours=8), "Asia/Shanghai")

Row = Mapping[str, str]

CARD_COLUMNS = tuple(DEFAULT_CARD_MAPPING.mapping.values())
CARD_KIND = {"sale": "消费", "refund": "退货", "void": "消费撤销"}
CARD_TYPE_TEXT = {"debit": "借记卡", "credit": "贷记卡", "": ""}
WECHAT_SUMMARY = ("应结订单金额", "退款金额", "充值券退款金额", "手续费", "订单金额", "申请退款金额")
ENCODINGS = {"card": "utf-8", "wechat": "utf-8", "alipay": "gbk"}


def yuan(fen: int) -> str:
    """Fen as the files print yuan: ``-12.30``."""
    sign = "-" if fen < 0 else ""
    return f"{sign}{abs(fen) // 100}.{abs(fen) % 100:02d}"


def fen(text: str) -> int:
    whole, _, cents = text.strip().lstrip("-").partition(".")
    value = int(whole) * 100 + int((cents or "0").ljust(2, "0"))
    return -value if text.strip().startswith("-") else value


@dataclass
class SettlementWriter:
    """One file: ``row`` per transaction (returns its line number), ``close`` writes the format's end."""

    source: str
    out: TextIO
    merchant_no: str
    day: date
    line_no: int = 0
    rows: int = 0
    sums: dict[str, int] = field(default_factory=dict)

    def _put(self, text: str) -> int:
        self.out.write(text + "\n")
        self.line_no += 1
        return self.line_no

    def _add(self, name: str, text: str) -> None:
        self.sums[name] = self.sums.get(name, 0) + fen(text)

    def open(self) -> None:
        if self.source == "card":
            self._put(",".join(CARD_COLUMNS))
        elif self.source == "wechat":
            self._put(",".join(WECHAT_COLUMNS))
        else:
            nxt = self.day + timedelta(days=1)
            self._put("#支付宝业务明细查询")
            self._put(f"#账号：[{self.merchant_no}]")
            self._put(f"#起始日期：[{self.day:%Y年%m月%d日} 00:00:00]   终止日期：[{nxt:%Y年%m月%d日} 00:00:00]")
            self._put("#-----------------------------------------业务明细列表----------------------------------------")
            self._put(",".join(ALIPAY_COLUMNS))

    def row(self, row: Row) -> int:
        self.rows += 1
        if self.source == "card":
            self._add("交易金额", row["交易金额"])
            self._add("手续费", row["手续费"])
            return self._put(",".join(row.get(c, "") for c in CARD_COLUMNS))
        if self.source == "wechat":
            for name in WECHAT_SUMMARY:
                self._add(name, row.get(name, "0.00"))
            return self._put(",".join("`" + row.get(c, "") for c in WECHAT_COLUMNS))
        kind = row["业务类型"]
        self.sums[f"{kind}笔数"] = self.sums.get(f"{kind}笔数", 0) + 1
        self._add(f"{kind}实收", row["商家实收（元）"])
        cells = [row.get(c, "") + "\t" for c in ALIPAY_COLUMNS]
        return self._put(",".join(cells[:-1]) + "," + cells[-1].rstrip("\t"))

    def close(self) -> None:
        s = self.sums
        if self.source == "card":
            self._put(card_footer(yuan(s.get("交易金额", 0)), yuan(s.get("手续费", 0))))
        elif self.source == "wechat":
            self._put("总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额")
            figures = [str(self.rows)] + [yuan(s.get(name, 0)) for name in WECHAT_SUMMARY]
            self._put(",".join("`" + f for f in figures))
        else:
            self._put("#-----------------------------------------业务明细列表结束------------------------------------")
            self._put(f"#交易合计：{s.get('交易笔数', 0)}笔，商家实收共{yuan(s.get('交易实收', 0))}元")
            self._put(f"#退款合计：{s.get('退款笔数', 0)}笔，商家实收共{yuan(s.get('退款实收', 0))}元")
            self._put(f"#导出时间：[{self.day + timedelta(days=1):%Y年%m月%d日} 09:00:00]")


def card_footer(amount: str, fee: str) -> str:
    """The acquirer's 合计 line: as many fields as the header, the totals under their own columns."""
    cells = ["合计"] + [""] * (len(CARD_COLUMNS) - 1)
    cells[CARD_COLUMNS.index("交易金额")], cells[CARD_COLUMNS.index("手续费")] = amount, fee
    return ",".join(cells)


def open_writer(path: Path, source: str, merchant_no: str, day: date) -> tuple[TextIO, SettlementWriter]:
    out = open(path, "w", encoding=ENCODINGS[source], newline="\n")  # noqa: SIM115 - closed by the caller
    writer = SettlementWriter(source, out, merchant_no, day)
    writer.open()
    return out, writer


def _local(at: Any) -> Any:
    return at.astimezone(SHANGHAI)


def line_of(source: str, line: Any) -> dict[str, str]:
    """A day's line (``tests.support.recon_day.Line``) as the format's row."""
    return {"card": _card_row, "wechat": _wechat_row, "alipay": _alipay_row}[source](line)


def _card_row(line: Any) -> dict[str, str]:
    s, r = line.sale, line.refund
    own = r is not None and not r.names_sale
    sign = 1 if line.kind == "sale" else -1
    local = _local(line.at)
    return {
        "交易日期": f"{local:%Y%m%d}",
        "交易时间": f"{local:%H%M%S}",
        "商户号": "898310058120001",
        "终端号": s.terminal[1],
        "卡号": s.payer,
        "交易类型": CARD_KIND[line.kind],
        "交易金额": yuan(sign * line.amount_fen),
        "手续费": yuan(line.fee_fen),
        "凭证号": line.ref.get("voucher_no", r.voucher_no if own else s.voucher_no),
        "参考号": line.ref.get("rrn", r.rrn if own else s.rrn),
        "批次号": line.ref.get("batch_no", "000123"),
        "授权码": "A1B2C3",
        "卡类型": CARD_TYPE_TEXT[getattr(s, "card_type", "")],
    }


def _wechat_row(line: Any) -> dict[str, str]:
    s, r = line.sale, line.refund
    refund = line.kind != "sale"
    order = line.amount_fen if not refund else s.amount_fen
    coupon_back = s.merchant_coupon * line.amount_fen // s.amount_fen if refund else 0
    wallet_back = s.channel_coupon * line.amount_fen // s.amount_fen if refund else 0
    paid = line.status == "SUCCESS"
    return {
        "交易时间": f"{_local(line.at):%Y-%m-%d %H:%M:%S}",
        "公众账号ID": "wx8888888888888888",
        "商户号": "1900000109",
        "特约商户号": "898310058120001",
        "设备号": s.terminal[1],
        "微信订单号": f"4200{s.paid_date:%Y%m%d}{line.ref.get('rrn', s.rrn)}",
        "商户订单号": s.order_no,
        "用户标识": s.payer,
        "交易类型": "MICROPAY",
        "交易状态": "REFUND" if refund else "SUCCESS",
        "付款银行": "CMB_DEBIT",
        "货币种类": "CNY",
        "应结订单金额": yuan(order - s.merchant_coupon),
        "代金券金额": yuan(s.merchant_coupon + s.channel_coupon),
        "微信退款单号": r.rrn if refund else "0",
        "商户退款单号": r.refund_no if refund else "0",
        "退款金额": yuan(line.amount_fen - coupon_back if refund and paid else 0),
        "充值券退款金额": yuan(wallet_back if paid else 0),
        "退款类型": "ORIGINAL" if refund else "",
        "退款状态": line.status if refund else "",
        "商品名称": "商品",
        "商户数据包": "",
        "手续费": yuan(line.fee_fen if paid else 0),
        "费率": "0.38%",
        "订单金额": yuan(order),
        "申请退款金额": yuan(line.amount_fen if refund else 0),
        "费率备注": "",
    }


def _alipay_row(line: Any) -> dict[str, str]:
    s, r = line.sale, line.refund
    sign = 1 if line.kind == "sale" else -1
    share = line.amount_fen if line.kind != "sale" else s.amount_fen
    merchant_coupon = s.merchant_coupon * share // s.amount_fen
    wallet_coupon = s.channel_coupon * share // s.amount_fen
    at = f"{_local(line.at):%Y-%m-%d %H:%M:%S}"
    return {
        "支付宝交易号": f"2026{s.paid_date:%m%d}{line.ref.get('rrn', s.rrn)}",
        "商户订单号": s.order_no,
        "业务类型": "交易" if line.kind == "sale" else "退款",
        "商品名称": "商品",
        "创建时间": at,
        "完成时间": at,
        "门店编号": "ST001",
        "门店名称": "一号店",
        "操作员": "收银员",
        "终端号": s.terminal[1],
        "对方账户": s.payer,
        "订单金额（元）": yuan(sign * line.amount_fen),
        "商家实收（元）": yuan(sign * (line.amount_fen - merchant_coupon)),
        "支付宝红包（元）": yuan(sign * wallet_coupon),
        "集分宝（元）": "0.00",
        "支付宝优惠（元）": "0.00",
        "商家优惠（元）": yuan(sign * merchant_coupon),
        "券核销金额（元）": "0.00",
        "券名称": "满减券" if merchant_coupon else "",
        "商家红包消费金额（元）": "0.00",
        "卡消费金额（元）": "0.00",
        "退款批次号/请求号": r.refund_no if r is not None else "",
        "服务费（元）": yuan(-line.fee_fen),
        "分润（元）": "0.00",
        "备注": "",
    }
