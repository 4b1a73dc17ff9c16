"""Small settlement files written line by line as the channels send them, with their summary or footer, for the
tests of what reconciliation refuses: each builder takes the lines it should hold and adds up the summary itself,
so a test changes exactly the one thing it is about."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select

from posrefund.adapters.db import tables
from posrefund.adapters.settlement import open_settlement_file
from posrefund.adapters.settlement.blocks import LineBlock
from posrefund.demo.settlement.model import yuan
from posrefund.demo.settlement.writers import ALIPAY_HEADER, WECHAT_HEADER
from posrefund.domain.roles import Actor
from posrefund.service import reconciliation
from posrefund.service.deps import Deps

SUB_MCHID = "1900000201"  # the merchant's WeChat Pay sub-merchant number in these bills
ALIPAY_ACCOUNT = "20881234567890120156"
CARD_MID = "898310058120001"
DAY = date(2026, 11, 20)


@dataclass(frozen=True)
class Tx:
    """One line: n numbers its references; a refund refunds sale n."""

    n: int
    amount_fen: int
    fee_fen: int = 0
    refund: bool = False
    day: date = DAY
    merchant_no: str = ""


def wechat_bill(txs: list[Tx], *, summary: bool = True, **override: str) -> str:
    """A WeChat Pay ALL bill: header, backticked lines, the summary header and its line (totals added up from
    the lines unless ``override`` gives one, by its summary name)."""
    rows = [WECHAT_HEADER]
    totals = {"总交易单数": "0", "应结订单总金额": 0, "退款总金额": 0, "充值券退款总金额": 0, "手续费总金额": 0}
    totals |= {"订单总金额": 0, "申请退款总金额": 0}
    for tx in txs:
        rows.append(",".join("`" + f for f in _wechat_fields(tx)))
        if tx.refund:
            totals["退款总金额"] = int(totals["退款总金额"]) + tx.amount_fen
            totals["申请退款总金额"] = int(totals["申请退款总金额"]) + tx.amount_fen
            totals["手续费总金额"] = int(totals["手续费总金额"]) - tx.fee_fen
        else:
            totals["应结订单总金额"] = int(totals["应结订单总金额"]) + tx.amount_fen
            totals["订单总金额"] = int(totals["订单总金额"]) + tx.amount_fen
            totals["手续费总金额"] = int(totals["手续费总金额"]) + tx.fee_fen
    shown = {k: str(len(txs)) if k == "总交易单数" else yuan(int(v)) for k, v in totals.items()} | override
    if summary:
        rows.append(",".join(shown))
        rows.append(",".join("`" + v for v in shown.values()))
    return "\n".join(rows) + "\n"


def _wechat_fields(tx: Tx) -> list[str]:
    at = f"{tx.day:%Y-%m-%d} 10:{tx.n % 60:02d}:00"
    sub = tx.merchant_no or SUB_MCHID
    amount = yuan(tx.amount_fen)
    head = [at, "wx8888888888888888", "1900000109", sub, "POS-01", f"42000{tx.n:023d}", f"SO{tx.n:010d}"]
    head += ["oUpF8uMuAJO_M2pxb1Q9zNjWeS6o", "MICROPAY"]
    if tx.refund:
        refund = [f"503{tx.n:023d}", f"RF{tx.n:010d}", amount, "0.00", "ORIGINAL", "SUCCESS", "商品", ""]
        tail = [*refund, yuan(-tx.fee_fen), "0.60%", amount, amount, ""]
        return [*head, "REFUND", "CMB_DEBIT", "CNY", amount, "0.00", *tail]
    tail = ["0", "0", "0.00", "0.00", "", "", "商品", "", yuan(tx.fee_fen), "0.60%", amount, "0.00", ""]
    return [*head, "SUCCESS", "CMB_DEBIT", "CNY", amount, "0.00", *tail]


def alipay_bill(txs: list[Tx]) -> str:
    """An Alipay 业务明细 bill (to be encoded GBK, as Alipay sends it): ``#`` lines around tab-padded fields."""
    rows = ["#支付宝业务明细查询", f"#账号：[{ALIPAY_ACCOUNT}]", "#起始日期：[2026年11月20日 00:00:00]"]
    rows += ["#-----------------------------------------业务明细列表----------------------------------------"]
    rows.append(ALIPAY_HEADER)
    sales = [tx for tx in txs if not tx.refund]
    refunds = [tx for tx in txs if tx.refund]
    for tx in txs:
        at = f"{tx.day:%Y-%m-%d} 10:{tx.n % 60:02d}:00"
        signed = yuan(-tx.amount_fen if tx.refund else tx.amount_fen)
        fields = [f"2026{tx.n:024d}", f"SO{tx.n:010d}", "退款" if tx.refund else "交易", "奶茶", at, at, "ST001"]
        fields += ["一号店", "收银员", "POS-A1", "138****5678", signed, signed, "0.00", "0.00", "0.00", "0.00"]
        fields += ["0.00", "", "0.00", "0.00", f"RF{tx.n:010d}" if tx.refund else "", yuan(-tx.fee_fen), "0.00"]
        rows.append(",".join(f + "\t" for f in fields) + ",")
    rows.append("#-----------------------------------------业务明细列表结束------------------------------------")
    received = yuan(sum(tx.amount_fen for tx in sales))
    rows.append(f"#交易合计：{len(sales)}笔，商家实收共：{received}元，商家优惠共：0.00元")
    if refunds:
        back = yuan(-sum(tx.amount_fen for tx in refunds))
        rows.append(f"#退款合计：{len(refunds)}笔，商家实收退款共：{back}元，商家优惠退款共：0.00元")
    rows.append("#导出时间：[2026年11月21日 09:00:00]")
    return "\r\n".join(rows) + "\r\n"


def card_file(txs: list[Tx], *, footer: bool = True) -> str:
    """The acquirer's CSV in the default mapping, with its 合计 line (amounts and fees as printed)."""
    rows = ["交易日期,交易时间,商户号,终端号,卡号,交易类型,交易金额,手续费,凭证号,参考号,批次号,授权码"]
    total = fees = 0
    for tx in txs:
        signed, fee = (-tx.amount_fen, -tx.fee_fen) if tx.refund else (tx.amount_fen, tx.fee_fen)
        total, fees = total + signed, fees + fee
        kind = "退货" if tx.refund else "消费"
        mid = tx.merchant_no or CARD_MID
        rows.append(
            f"{tx.day:%Y%m%d},10{tx.n % 60:02d}00,{mid},10000001,622202******0128,{kind},{yuan(signed)},{yuan(fee)},"
            f"{tx.n:06d},{tx.n:012d},000012,A1"
        )
    if footer:
        rows.append(f"合计,,,,,,{yuan(total)},{yuan(fees)},,,,")
    return "\n".join(rows) + "\n"


def write(tmp: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp / name
    path.write_bytes(text.encode(encoding))
    return path


def import_path(deps: Deps, actor: Actor, source: str, path: Path, **dates: date | None) -> reconciliation.ImportReport:
    """Import a file the way the API, the console and the CLI do: read, checked and staged in one go."""
    settlement = open_settlement_file(source, path)
    return reconciliation.import_file(deps, actor, **settlement.import_arguments(), **dates)


COUNTED = (
    tables.settlement_files,
    tables.settlement_lines,
    tables.settlement_bad_lines,
    tables.recon_runs,
    tables.audit_events,
)


def row_counts(engine: Engine) -> dict[str, int]:
    """How many rows each table an import or a withdrawal writes holds: a refusal changes none of them."""
    with engine.connect() as c:
        return {t.name: int(c.execute(select(func.count()).select_from(t)).scalar_one()) for t in COUNTED}


def counting_lines(engine: Engine, file_id: str) -> int:
    """The file's lines that count (not shadows of a line an earlier file holds)."""
    lines = tables.settlement_lines.c
    with engine.connect() as c:
        q = select(func.count()).where(lines.file_id == file_id, lines.shadow == "")
        return int(c.execute(q).scalar_one())


def file_row(engine: Engine, file_id: str) -> dict[str, Any]:
    files = tables.settlement_files.c
    with engine.connect() as c:
        return dict(c.execute(select(tables.settlement_files).where(files.id == file_id)).mappings().one())


def one_by_one(items: Iterable[object]) -> Iterator[object]:
    """A settlement file's items with each block of lines cut into blocks of one line, in the file's order: an
    import then batches exactly the number of lines it is told to (a file read as columns is one block)."""
    for item in items:
        if not isinstance(item, LineBlock):
            yield item
            continue
        rows: list[tuple[int, object]] = [
            (int(no), LineBlock(item.frame.slice(k, 1))) for k, no in enumerate(item.frame["line_no"])
        ]
        rows += [(line.line_no, line) for line in (*item.lines, *item.bad)]
        yield from (one for _, one in sorted(rows, key=lambda row: row[0]))
