"""The three settlement file layouts, written line by line as the channels send them: the acquirer's CSV,
WeChat Pay's trade bill and Alipay's 业务明细 bill."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TextIO

from posrefund.demo.settlement.model import SHANGHAI, RefundTx, Tx, yuan


class Writer:
    """One file format: ``start``, a line per ``sale`` and ``refund`` (each returns its line number), ``finish``."""

    source = ""

    def __init__(self, out: TextIO, merchant_no: str) -> None:
        self.out = out
        self.merchant_no = merchant_no
        self.line_no = 0
        self.count = 0
        self.total_fen = 0
        self.fee_fen = 0
        self.refunds = 0  # of the lines counted, how many are refunds
        self.refunded_fen = 0  # what the channel paid back (a refund still processing paid nothing yet)
        self.asked_fen = 0  # what the refunds asked for

    def _tally(self, amount_fen: int, fee_fen: int) -> None:
        """Count a line into the totals the file's footer or summary line repeats."""
        self.count += 1
        self.total_fen += amount_fen
        self.fee_fen += fee_fen

    def _put(self, text: str) -> int:
        self.out.write(text + "\n")
        self.line_no += 1
        return self.line_no

    def start(self, day: date) -> None:
        raise NotImplementedError

    def sale(self, tx: Tx, amount_fen: int, fee_fen: int) -> int:
        raise NotImplementedError

    def refund(self, r: RefundTx, fee_fen: int) -> int:
        raise NotImplementedError

    def finish(self) -> None:
        raise NotImplementedError


class CardWriter(Writer):
    """The acquirer's CSV in the default column mapping (see docs/settlement.md)."""

    source = "card"

    def start(self, day: date) -> None:
        self._put("交易日期,交易时间,商户号,终端号,卡号,交易类型,交易金额,手续费,凭证号,参考号,批次号,授权码")

    def _row(self, at: datetime, terminal: str, payer: str, kind: str, amount: int, fee: int, tx: Tx, rrn: str) -> int:
        local = at.astimezone(SHANGHAI)
        self._tally(amount, fee)
        return self._put(
            f"{local:%Y%m%d},{local:%H%M%S},{self.merchant_no},{terminal},{payer},{kind},{yuan(amount)},{yuan(fee)},"
            f"{tx.voucher_no},{rrn},{tx.batch_no},{tx.auth_code}"
        )

    def sale(self, tx: Tx, amount_fen: int, fee_fen: int) -> int:
        return self._row(tx.at, tx.terminal_no, tx.payer, "消费", amount_fen, fee_fen, tx, tx.rrn)

    def refund(self, r: RefundTx, fee_fen: int) -> int:
        kind = "消费撤销" if r.void else "退货"
        return self._row(
            r.at, r.sale.terminal_no, r.sale.payer, kind, -r.amount_fen, -fee_fen, r.sale, r.channel_refund_id
        )

    def finish(self) -> None:
        self._put(f"合计,,,,,,{yuan(self.total_fen)},{yuan(self.fee_fen)},,,,")


WECHAT_HEADER = (
    "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,"
    "应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,"
    "手续费,费率,订单金额,申请退款金额,费率备注"
)


class WechatWriter(Writer):
    """WeChat Pay's ALL trade bill: backtick-prefixed fields, then a summary header and line."""

    source = "wechat"

    def start(self, day: date) -> None:
        self._put(WECHAT_HEADER)

    def _row(self, fields: list[str]) -> int:
        return self._put(",".join("`" + f for f in fields))

    def sale(self, tx: Tx, amount_fen: int, fee_fen: int) -> int:
        self._tally(amount_fen, fee_fen)
        local = tx.at.astimezone(SHANGHAI)
        return self._row(
            [
                f"{local:%Y-%m-%d %H:%M:%S}", "wx8888888888888888", "1900000109", self.merchant_no, tx.terminal_no,
                f"42000{tx.rrn}", tx.order_no, tx.payer, "MICROPAY", "SUCCESS", "CMB_DEBIT", "CNY",
                yuan(amount_fen), "0.00", "0", "0", "0.00", "0.00", "", "", "商品", "", yuan(fee_fen), "",
                yuan(amount_fen), "0.00", "",
            ]
        )  # fmt: skip

    def refund(self, r: RefundTx, fee_fen: int) -> int:
        local = r.at.astimezone(SHANGHAI)
        paid = r.amount_fen if r.status == "SUCCESS" else 0
        self.count, self.fee_fen = self.count + 1, self.fee_fen - fee_fen
        self.refunded_fen, self.asked_fen = self.refunded_fen + paid, self.asked_fen + r.amount_fen
        return self._row(
            [
                f"{local:%Y-%m-%d %H:%M:%S}", "wx8888888888888888", "1900000109", self.merchant_no, r.sale.terminal_no,
                f"42000{r.sale.rrn}", r.sale.order_no, r.sale.payer, "MICROPAY", "REFUND", "CMB_DEBIT", "CNY",
                yuan(r.sale.amount_fen), "0.00", r.channel_refund_id or f"503{r.refund_no}", r.refund_no, yuan(paid),
                "0.00", "ORIGINAL", r.status, "商品", "", yuan(-fee_fen), "", yuan(r.sale.amount_fen),
                yuan(r.amount_fen), "",
            ]
        )  # fmt: skip

    def finish(self) -> None:
        self._put("总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额")
        self._put(
            f"`{self.count},`{yuan(self.total_fen)},`{yuan(self.refunded_fen)},`0.00,`{yuan(self.fee_fen)},"
            f"`{yuan(self.total_fen)},`{yuan(self.asked_fen)}"
        )


ALIPAY_HEADER = (
    "支付宝交易号,商户订单号,业务类型,商品名称,创建时间,完成时间,门店编号,门店名称,操作员,终端号,对方账户,订单金额（元）,"
    "商家实收（元）,支付宝红包（元）,集分宝（元）,支付宝优惠（元）,商家优惠（元）,券核销金额（元）,券名称,"
    "商家红包消费金额（元）,卡消费金额（元）,退款批次号/请求号,服务费（元）,分润（元）,备注"
)


class AlipayWriter(Writer):
    """Alipay's 业务明细 bill: ``#`` header and footer lines around tab-padded fields (the caller encodes GBK)."""

    source = "alipay"

    def start(self, day: date) -> None:
        nxt = day + timedelta(days=1)
        self._put("#支付宝业务明细查询")
        self._put(f"#账号：[{self.merchant_no}]")
        self._put(f"#起始日期：[{day:%Y年%m月%d日} 00:00:00]   终止日期：[{nxt:%Y年%m月%d日} 00:00:00]")
        self._put("#-----------------------------------------业务明细列表----------------------------------------")
        self._put(ALIPAY_HEADER)

    def _row(self, fields: list[str]) -> int:
        return self._put(",".join(f + "\t" for f in fields[:-1]) + "," + fields[-1])

    def sale(self, tx: Tx, amount_fen: int, fee_fen: int) -> int:
        self._tally(amount_fen, fee_fen)
        t = f"{tx.at.astimezone(SHANGHAI):%Y-%m-%d %H:%M:%S}"
        return self._row(
            [
                f"2026{tx.rrn}", tx.order_no, "交易", "商品", t, t, "ST001", "一号店", "收银员", tx.terminal_no,
                tx.payer, yuan(amount_fen), yuan(amount_fen), "0.00", "0.00", "0.00", "0.00", "0.00", "", "0.00",
                "0.00", "", yuan(-fee_fen), "0.00", "",
            ]
        )  # fmt: skip

    def refund(self, r: RefundTx, fee_fen: int) -> int:
        self.count, self.refunds, self.refunded_fen = self.count + 1, self.refunds + 1, self.refunded_fen + r.amount_fen
        t = f"{r.at.astimezone(SHANGHAI):%Y-%m-%d %H:%M:%S}"
        return self._row(
            [
                f"2026{r.sale.rrn}", r.sale.order_no, "退款", "商品", t, t, "ST001", "一号店", "收银员",
                r.sale.terminal_no, r.sale.payer, yuan(-r.amount_fen), yuan(-r.amount_fen), "0.00", "0.00",
                "0.00", "0.00", "0.00", "", "0.00", "0.00", r.refund_no, yuan(fee_fen), "0.00", "",
            ]
        )  # fmt: skip

    def finish(self) -> None:
        self._put("#-----------------------------------------业务明细列表结束------------------------------------")
        self._put(f"#交易合计：{self.count - self.refunds}笔，商家实收共：{yuan(self.total_fen)}元，商家优惠共：0.00元")
        if self.refunds:
            self._put(
                f"#退款合计：{self.refunds}笔，商家实收退款共：{yuan(-self.refunded_fen)}元，商家优惠退款共：0.00元"
            )
        self._put("#导出时间：[2026年11月21日 09:00:00]")


WRITERS: dict[str, type[Writer]] = {"card": CardWriter, "wechat": WechatWriter, "alipay": AlipayWriter}
ENCODING = {"card": "utf-8", "wechat": "utf-8", "alipay": "gbk"}
