"""Settlement files for trying reconciliation: realistic card / WeChat Pay / Alipay files written from a ledger,
with chosen faults injected, plus the list of what reconciliation must report.

Two uses: ``posrefund demo settlement`` writes the files for the demo merchant's recorded sales and refunds
(faults on the file side only), and the tests and ``bench/reconcile.py`` build a synthetic ledger and its
file together (``synthetic``), streaming, so a million rows never sit in memory.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any, TextIO

from posrefund.domain.reconciliation import DiscrepancyClass, FeeRate

SHANGHAI = timezone(timedelta(hours=8), "Asia/Shanghai")
C = DiscrepancyClass
BINS = ("622202", "621700", "622848", "436742")


def yuan(fen: int) -> str:
    sign = "-" if fen < 0 else ""
    fen = abs(fen)
    return f"{sign}{fen // 100}.{fen % 100:02d}"


@dataclass(frozen=True)
class Tx:
    """One sale as the channel saw it."""

    sale_id: str  # ours ("" when the channel has a sale we never recorded)
    terminal_no: str
    voucher_no: str
    rrn: str
    order_no: str
    amount_fen: int
    at: datetime
    payer: str  # card: masked PAN; WeChat: openid; Alipay: masked account
    batch_no: str = "000001"
    auth_code: str = "A1B2C3"


@dataclass(frozen=True)
class RefundTx:
    refund_id: str
    refund_no: str
    channel_refund_id: str
    amount_fen: int
    at: datetime
    sale: Tx
    status: str = "SUCCESS"  # what the channel's file says
    void: bool = False


@dataclass
class Faults:
    """How many of each fault to inject."""

    missing_here: int = 0
    missing_at_channel: int = 0
    amount_mismatch: int = 0
    fee_mismatch: int = 0
    duplicate_charge: int = 0
    refund_status_mismatch: int = 0
    processing: int = 0  # WeChat refunds still PROCESSING in the file: must NOT be reported

    def total(self) -> int:
        return (
            self.missing_here
            + self.missing_at_channel
            + self.amount_mismatch
            + self.fee_mismatch
            + self.duplicate_charge
            + self.refund_status_mismatch
        )


Expected = set[tuple[str, str]]  # (class, "sale:<id>" | "refund:<id>" | "line:<line no.>")


# ---- writers: one per file format, each writes the real layout line by line ---------------------------------
class Writer:
    source = ""

    def __init__(self, out: TextIO, merchant_no: str) -> None:
        self.out = out
        self.merchant_no = merchant_no
        self.line_no = 0
        self.count = 0
        self.total_fen = 0
        self.fee_fen = 0

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
        self.count += 1
        self.total_fen += amount
        self.fee_fen += fee
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
        self.count += 1
        self.total_fen += amount_fen
        self.fee_fen += fee_fen
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
        self.count += 1
        local = r.at.astimezone(SHANGHAI)
        paid = r.amount_fen if r.status == "SUCCESS" else 0
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
            f"`{self.count},`{yuan(self.total_fen)},`0.00,`0.00,`{yuan(self.fee_fen)},`{yuan(self.total_fen)},`0.00"
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
        self.count += 1
        self.total_fen += amount_fen
        self.fee_fen += fee_fen
        t = f"{tx.at.astimezone(SHANGHAI):%Y-%m-%d %H:%M:%S}"
        return self._row(
            [
                f"2026{tx.rrn}", tx.order_no, "交易", "商品", t, t, "ST001", "一号店", "收银员", tx.terminal_no,
                tx.payer, yuan(amount_fen), yuan(amount_fen), "0.00", "0.00", "0.00", "0.00", "0.00", "", "0.00",
                "0.00", "", yuan(-fee_fen), "0.00", "",
            ]
        )  # fmt: skip

    def refund(self, r: RefundTx, fee_fen: int) -> int:
        self.count += 1
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
        self._put(f"#交易合计：{self.count}笔，商家实收共{yuan(self.total_fen)}元")
        self._put("#导出时间：[2026年11月21日 09:00:00]")


WRITERS: dict[str, type[Writer]] = {"card": CardWriter, "wechat": WechatWriter, "alipay": AlipayWriter}
ENCODING = {"card": "utf-8", "wechat": "utf-8", "alipay": "gbk"}


def payer_for(source: str, i: int) -> str:
    """Payers built so that no two ordinary sales look like a duplicate charge: the same payer comes back on
    the same terminal only 10,000 sales later."""
    if source == "card":
        return f"{BINS[(i // 10_000) % 4]}******{i % 10_000:04d}"
    if source == "wechat":
        return f"oUpF{i % 10_000:04d}x{(i // 10_000) % 100:02d}{i % 100:02d}"
    return f"1{3 + (i // 10_000) % 6}*******{i % 100:02d}{(i // 100) % 100:02d}"


# ---- a synthetic ledger and its file, built together ----------------------------------------------------
@dataclass
class Ledger:
    """Where the synthetic set goes: ``sales(rows)`` and ``refunds(rows)`` receive chunks of table rows."""

    merchant_id: str
    store_id: str
    terminals: list[tuple[str, str]]  # (terminal id, terminal no.)
    sales: Callable[[list[dict[str, Any]]], None]
    refunds: Callable[[list[dict[str, Any]]], None]
    chunk: int = 5_000


@dataclass
class Synthetic:
    expected: Expected = field(default_factory=set)
    sales: int = 0
    refunds: int = 0
    lines: int = 0
    processing: list[str] = field(default_factory=list)  # refund ids left PROCESSING on purpose
    lost: list[str] = field(default_factory=list)  # refund ids the channel paid, we hold as processing
    duplicates: list[str] = field(default_factory=list)  # the second sale of each duplicate charge


def synthetic(
    path: Path,
    source: str,
    day: date,
    n_sales: int,
    n_refunds: int,
    faults: Faults,
    ledger: Ledger,
    rate: FeeRate,
    seed: int = 2026,
    merchant_no: str = "898310058120001",
    now: datetime | None = None,
) -> Synthetic:
    """Write a settlement file of ``n_sales`` sales (+ refunds, + injected faults) and hand the matching ledger
    rows to ``ledger`` in chunks. Returns what reconciliation must report, and nothing else."""
    rng = random.Random(seed)  # noqa: S311 - test data
    result = Synthetic()
    start = datetime.combine(day, time(0, 0, 5), SHANGHAI)
    step = 86_000 / max(n_sales, 1)
    special = rng.sample(
        range(n_sales),
        faults.missing_at_channel + faults.amount_mismatch + faults.fee_mismatch + faults.duplicate_charge + n_refunds,
    )
    cuts = _cuts(
        special, [faults.missing_at_channel, faults.amount_mismatch, faults.fee_mismatch, faults.duplicate_charge]
    )
    missing, amount_bad, fee_bad, dups, refunded = (set(c) for c in cuts)
    refund_order = cuts[4]
    lost = set(refund_order[: faults.refund_status_mismatch])
    # Only WeChat's bill shows a refund still PROCESSING; card and Alipay files list completed refunds only.
    n_processing = faults.processing if source == "wechat" else 0
    processing = set(refund_order[faults.refund_status_mismatch : faults.refund_status_mismatch + n_processing])
    created = now or datetime.combine(day, time(23, 0), SHANGHAI).astimezone(UTC)
    sale_rows: list[dict[str, Any]] = []
    refund_rows: list[dict[str, Any]] = []
    pending_refunds: list[RefundTx] = []
    n_terms = len(ledger.terminals)

    def flush(final: bool = False) -> None:
        refunds_due = bool(refund_rows) and (final or len(refund_rows) >= ledger.chunk)
        if sale_rows and (final or refunds_due or len(sale_rows) >= ledger.chunk):  # a refund's sale goes first
            ledger.sales(list(sale_rows))
            sale_rows.clear()
        if refunds_due:
            ledger.refunds(list(refund_rows))
            refund_rows.clear()

    def sale_row(tx: Tx, term_id: str, refunded: int = 0, reserved: int = 0) -> dict[str, Any]:
        return {
            "id": tx.sale_id,
            "merchant_id": ledger.merchant_id,
            "store_id": ledger.store_id,
            "terminal_id": term_id,
            "voucher_no": tx.voucher_no,
            "rrn": tx.rrn,
            "batch_no": tx.batch_no,
            "auth_code": tx.auth_code,
            "order_no": tx.order_no,
            "channel": source,
            "kind": "sale",
            "amount_fen": tx.amount_fen,
            "fee_fen": rate.expected_fee(tx.amount_fen),
            "currency": "CNY",
            "paid_at": tx.at.astimezone(UTC),
            "paid_date": day,
            "settlement_status": "settled",
            "payer_masked": _masked(source, tx.payer),
            "card_last4": tx.payer[-4:] if source == "card" else "",
            "refunded_fen": refunded,
            "reserved_fen": reserved,
            "refund_count": 1 if refunded or reserved else 0,
            "created_at": created,
        }

    with open(path, "w", encoding=ENCODING[source], newline="\n") as out:
        w = WRITERS[source](out, merchant_no)
        w.start(day)
        for i in range(n_sales):
            term_id, term_no = ledger.terminals[i % n_terms]
            tx = Tx(
                sale_id=f"sal{seed}x{i:08d}",
                terminal_no=term_no,
                voucher_no=f"{i // n_terms + 1:06d}",
                rrn=f"{i:012d}",
                order_no=f"SO{day:%Y%m%d}{i:09d}",
                amount_fen=100 + (i * 7_919 + rng.randrange(100)) % 500_000,
                at=start + timedelta(seconds=int(i * step)),
                payer=payer_for(source, i),
            )
            refund_amount = 0
            status = ""
            if i in refunded:
                refund_amount = max(1, tx.amount_fen // 2)
                status = "processing" if (i in lost or i in processing) else "succeeded"
            sale_rows.append(
                sale_row(
                    tx,
                    term_id,
                    refunded=refund_amount if status == "succeeded" else 0,
                    reserved=refund_amount if status == "processing" else 0,
                )
            )
            result.sales += 1
            fee = rate.expected_fee(tx.amount_fen)
            if i in missing:
                result.expected.add((C.MISSING_AT_CHANNEL.value, f"sale:{tx.sale_id}"))
            elif i in amount_bad:
                w.sale(tx, tx.amount_fen + 1 + rng.randrange(500), fee)
                result.expected.add((C.AMOUNT_MISMATCH.value, f"sale:{tx.sale_id}"))
            elif i in fee_bad:
                w.sale(tx, tx.amount_fen, fee + 1 + rng.randrange(3))
                result.expected.add((C.FEE_MISMATCH.value, f"sale:{tx.sale_id}"))
            else:
                w.sale(tx, tx.amount_fen, fee)
            if i in dups:
                twin = Tx(
                    sale_id=f"sal{seed}d{i:08d}",
                    terminal_no=term_no,
                    voucher_no=f"{900_000 + i % 99_999:06d}",
                    rrn=f"D{i:011d}",
                    order_no=f"SD{day:%Y%m%d}{i:09d}",
                    amount_fen=tx.amount_fen,
                    at=tx.at + timedelta(seconds=45),
                    payer=tx.payer,
                )
                sale_rows.append(sale_row(twin, term_id))
                w.sale(twin, twin.amount_fen, fee)
                result.expected.add((C.DUPLICATE_CHARGE.value, f"sale:{twin.sale_id}"))
                result.duplicates.append(twin.sale_id)
                result.sales += 1
            if refund_amount:
                rid = f"rfd{seed}x{i:08d}"
                r = RefundTx(
                    refund_id=rid,
                    refund_no=f"RF{day:%Y%m%d}{i:010d}",
                    channel_refund_id=f"R{i:011d}",
                    amount_fen=refund_amount,
                    at=min(tx.at + timedelta(seconds=600), start + timedelta(seconds=86_390)),  # same local day
                    sale=tx,
                    status="PROCESSING" if i in processing else "SUCCESS",
                )
                refund_rows.append(_refund_row(r, ledger, term_id, source, status, created))
                pending_refunds.append(r)
                result.refunds += 1
                if i in lost:
                    result.expected.add((C.REFUND_STATUS_MISMATCH.value, f"refund:{rid}"))
                    result.lost.append(rid)
                if i in processing:
                    result.processing.append(rid)
            while pending_refunds and pending_refunds[0].at <= tx.at:
                r = pending_refunds.pop(0)
                w.refund(r, rate.expected_fee(r.amount_fen))
            flush()
        for r in pending_refunds:
            w.refund(r, rate.expected_fee(r.amount_fen))
        for k in range(faults.missing_here):
            term_id, term_no = ledger.terminals[k % n_terms]
            stranger = Tx(
                sale_id="",
                terminal_no=term_no,
                voucher_no=f"{800_000 + k:06d}",
                rrn=f"X{k:011d}",
                order_no=f"SX{day:%Y%m%d}{k:09d}",
                amount_fen=1_000 + k,
                at=start + timedelta(seconds=86_000 + k % 300),
                payer=payer_for(source, 5_000 + k),
            )
            line = w.sale(stranger, stranger.amount_fen, rate.expected_fee(stranger.amount_fen))
            result.expected.add((C.MISSING_HERE.value, f"line:{line}"))
        w.finish()
        result.lines = w.count
    flush(final=True)
    return result


def _cuts(items: list[int], sizes: list[int]) -> list[list[int]]:
    out: list[list[int]] = []
    pos = 0
    for n in sizes:
        out.append(items[pos : pos + n])
        pos += n
    out.append(items[pos:])
    return out


def _masked(source: str, payer: str) -> str:
    if source == "wechat":
        return f"{payer[:2]}***{payer[-2:]}"
    return payer


def _refund_row(
    r: RefundTx, ledger: Ledger, term_id: str, source: str, status: str, created: datetime
) -> dict[str, Any]:
    done = status == "succeeded"
    at = r.at.astimezone(UTC)
    return {
        "id": r.refund_id,
        "merchant_id": ledger.merchant_id,
        "store_id": ledger.store_id,
        "terminal_id": term_id,
        "sale_id": r.sale.sale_id,
        "refund_no": r.refund_no,
        "amount_fen": r.amount_fen,
        "currency": "CNY",
        "reason": "customer_cancelled",
        "note": "",
        "status": status,
        "channel": source,
        "requested_by": "bench",
        "requested_role": "cashier",
        "required_approvals": 1,
        "approved_by": "[]",
        "review_reason": "",
        "evidence_ids": "[]",
        "customer_phone_masked": "",
        "customer_name_masked": "",
        "customer_id_no_masked": "",
        "version": 3,
        "created_at": at - timedelta(seconds=5),
        "updated_at": at,
        "method": "refund",
        "attempts": 1,
        "submitted": True,
        "channel_refund_id": r.channel_refund_id if done or source == "card" else "",
        "next_check_at": None if done else created + timedelta(days=30),
        "sent_at": at - timedelta(seconds=4),
        "succeeded_at": at if done else None,
    }


# ---- the demo: files for what the demo merchant recorded, with file-side faults ------------------------------
def from_ledger(
    path: Path,
    source: str,
    day: date,
    sales: Iterable[dict[str, Any]],
    refunds: Iterable[dict[str, Any]],
    faults: Faults,
    rates: dict[str, FeeRate],
    seed: int = 2026,
    merchant_no: str = "898310058120001",
) -> list[tuple[str, str]]:
    """Write the channel's file for recorded sales and refunds, injecting faults the file alone can show.
    Returns (class, what) for every injected fault."""
    rng = random.Random(seed)  # noqa: S311 - demo data
    sale_list = list(sales)
    refund_list = list(refunds)
    by_id = {s["id"]: s for s in sale_list}
    txs = {s["id"]: _tx(source, s) for s in sale_list}
    order = list(range(len(sale_list)))
    rng.shuffle(order)
    cuts = _cuts(
        order, [faults.missing_at_channel, faults.amount_mismatch, faults.fee_mismatch, faults.duplicate_charge]
    )
    missing, amount_bad, fee_bad, dups = (set(c) for c in cuts[:4])
    injected: list[tuple[str, str]] = []
    lost = [r for r in refund_list if r["status"] in ("processing", "abnormal", "failed")][
        : faults.refund_status_mismatch
    ]
    lost_ids = {r["id"] for r in lost}
    with open(path, "w", encoding=ENCODING[source], newline="\n") as out:
        w = WRITERS[source](out, merchant_no)
        w.start(day)
        for i, s in enumerate(sale_list):
            tx = txs[s["id"]]
            rate = rates.get(str(s["channel"]))
            fee = rate.expected_fee(tx.amount_fen) if rate else int(s["fee_fen"])
            if i in missing:
                injected.append((C.MISSING_AT_CHANNEL.value, f"sale {s['voucher_no']} / {s['order_no']}"))
                continue
            if i in amount_bad:
                w.sale(tx, tx.amount_fen + 100, fee)
                injected.append((C.AMOUNT_MISMATCH.value, f"sale {s['voucher_no']} / {s['order_no']}"))
            elif i in fee_bad:
                w.sale(tx, tx.amount_fen, fee + 1)
                injected.append((C.FEE_MISMATCH.value, f"sale {s['voucher_no']} / {s['order_no']}"))
            else:
                w.sale(tx, tx.amount_fen, fee)
            if i in dups:
                twin = Tx(
                    sale_id="",
                    terminal_no=tx.terminal_no,
                    voucher_no=f"{900_000 + i:06d}",
                    rrn=f"D{i:011d}",
                    order_no=f"{tx.order_no}-2",
                    amount_fen=tx.amount_fen,
                    at=tx.at + timedelta(seconds=40),
                    payer=tx.payer,
                )
                line = w.sale(twin, twin.amount_fen, fee)
                injected.append((C.DUPLICATE_CHARGE.value, f"line {line}"))
        for r in refund_list:
            sale = by_id.get(r["sale_id"])
            if sale is None:
                continue
            status = "SUCCESS" if r["status"] == "succeeded" or r["id"] in lost_ids else "PROCESSING"
            if source != "wechat" and status != "SUCCESS":
                continue  # card and Alipay files list only completed refunds
            at = r["succeeded_at"] or r["sent_at"] or r["created_at"]
            rt = RefundTx(
                r["id"],
                r["refund_no"],
                r["channel_refund_id"] or f"R{r['refund_no'][-11:]}",
                int(r["amount_fen"]),
                at,
                txs[sale["id"]],
                status,
                r["method"] == "void",
            )
            w.refund(rt, 0)
            if r["id"] in lost_ids:
                injected.append((C.REFUND_STATUS_MISMATCH.value, f"refund {r['refund_no']}"))
        for k in range(faults.missing_here):
            stranger = Tx(
                sale_id="",
                terminal_no="DEMO01",
                voucher_no=f"{800_000 + k:06d}",
                rrn=f"X{k:011d}",
                order_no=f"SX{k:09d}",
                amount_fen=2_000 + k,
                at=datetime.combine(day, time(21, 0), SHANGHAI) + timedelta(seconds=k),
                payer=payer_for(source, 7_000 + k),
            )
            line = w.sale(stranger, stranger.amount_fen, 0)
            injected.append((C.MISSING_HERE.value, f"line {line}"))
        w.finish()
    return injected


def _tx(source: str, s: dict[str, Any]) -> Tx:
    payer = str(s["payer_masked"])
    if source == "wechat":
        payer = f"{payer[:2]}PAYER{s['id'][-6:]}{payer[-2:]}" if len(payer) >= 4 else f"oX{s['id']}"
    return Tx(
        sale_id=str(s["id"]),
        terminal_no=str(s.get("terminal_no", "")),
        voucher_no=str(s["voucher_no"]),
        rrn=str(s["rrn"]),
        order_no=str(s["order_no"]),
        amount_fen=int(s["amount_fen"]),
        at=s["paid_at"],
        payer=payer,
        batch_no=str(s["batch_no"]),
        auth_code=str(s["auth_code"]),
    )


def chunks(items: Iterable[Any], n: int) -> Iterator[list[Any]]:
    buf: list[Any] = []
    for item in items:
        buf.append(item)
        if len(buf) >= n:
            yield buf
            buf = []
    if buf:
        yield buf
