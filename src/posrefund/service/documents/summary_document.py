"""The refund-cause summary as a document (the PDF, the email's HTML and the console's page are this one
document): in Chinese, money in yuan with two decimals, changes in percent."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from posrefund.domain.bank_application import STATUS_ZH as APPLICATION_ZH
from posrefund.domain.money import format_yuan
from posrefund.ports.documents import Block, Document, Fields, Heading, Paragraph, SummaryCase, Table
from posrefund.service.documents.summary import Section, Summary

SHANGHAI = ZoneInfo("Asia/Shanghai")
CADENCE_ZH = {"weekly": "周报", "monthly": "月报"}
STATUS_ZH = {
    "requested": "已申请",
    "pending_review": "待审核",
    "approved": "已批准",
    "processing": "退款中",
    "unknown": "结果未知",
    "failed": "退款失败",
    "closed": "已关闭",
    "abnormal": "异常",
    "succeeded": "退款成功",
    "rejected": "已驳回",
    "cancelled": "已撤回",
}
NOTABLE_ZH = {"largest": "金额最大的退款", "slowest": "到账最慢的退款", "abnormal": "失败 / 异常的退款"}


def percent(value: float | None) -> str:
    if value is None:
        return "新增"
    return f"{value * 100:+.1f}%"


def title_of(s: Summary) -> str:
    return f"{s.merchant_name} 退款原因{CADENCE_ZH[s.cadence]}（{s.period_key}）"


def _overview(s: Summary) -> Fields:
    t = s.total
    return Fields(
        (
            ("统计期间", f"{s.period.first.isoformat()} 至 {s.period.last.isoformat()}"),
            ("对比期间", f"{s.previous.first.isoformat()} 至 {s.previous.last.isoformat()}"),
            ("退款笔数", f"{t.refunds} 笔（上期 {t.previous_refunds} 笔，{percent(_ratio(t))}）"),
            ("退款金额", f"{format_yuan(t.amount_fen)}（上期 {format_yuan(t.previous_amount_fen)}）"),
            ("已退回", f"{t.paid} 笔"),
            ("退款率", "—" if t.rate_count is None else f"{t.rate_count * 100:.2f}%"),
        )
    )


def _ratio(t: Section) -> float | None:
    return None if t.previous_refunds == 0 else (t.refunds - t.previous_refunds) / t.previous_refunds


def _causes(section: Section) -> Table:
    rows = tuple(
        (
            c.label + ("（明显增加）" if c.growing else ""),
            str(c.refunds),
            format_yuan(c.amount_fen),
            str(c.previous),
            percent(c.change) if c.refunds or c.previous else "—",
        )
        for c in section.causes
        if c.refunds or c.previous
    )
    return Table(("原因", "笔数", "金额", "上期笔数", "环比"), rows, empty="本期无退款")


def _local(at: datetime | None) -> str:
    return "—" if at is None else at.astimezone(SHANGHAI).strftime("%m-%d %H:%M")


def _wait(case: SummaryCase) -> str:
    if case.succeeded_at is None:
        return "—"
    hours = (case.succeeded_at - case.created_at).total_seconds() / 3600
    return f"{hours / 24:.1f} 天" if hours >= 24 else f"{hours:.1f} 小时"


def _cases(s: Summary, cases: list[SummaryCase]) -> Table:
    rows = tuple(
        (
            c.refund_no,
            s.names.get(c.store_id, ""),
            s.names.get(c.terminal_id, ""),
            format_yuan(c.amount_fen),
            STATUS_ZH.get(c.status, c.status),
            _local(c.created_at),
            _wait(c),
        )
        for c in cases
    )
    return Table(("退款单号", "门店", "终端", "金额", "状态", "申请时间", "用时"), rows, empty="无")


def _open_items(s: Summary) -> list[Block]:
    blocks: list[Block] = [Heading("仍未办结", 2), _cases(s, s.open_cases)]
    if s.overdue_applications:
        rows = tuple(
            (a["id"], a["bank"], a["deadline"].isoformat() if a["deadline"] else "—", APPLICATION_ZH[a["status"]])
            for a in s.overdue_applications
        )
        blocks.append(Paragraph("已超过银行答复期限的退费申请："))
        blocks.append(Table(("申请编号", "银行", "答复期限", "状态"), rows))
    return blocks


def _advice(s: Summary) -> list[Block]:
    if not s.advice:
        return [Heading("改进建议", 2), Paragraph("本期未发现需要特别处理的集中原因。")]
    rows = tuple(
        (
            ("终端 " if a.place == "terminal" else "门店 ") + s.names.get(a.place_id, a.place_id),
            f"{a.count} 笔（{a.share * 100:.0f}%）",
            a.advice,
        )
        for a in s.advice
    )
    return [Heading("改进建议", 2), Table(("位置", "该原因退款", "建议"), rows)]


def summary_document(s: Summary, printed_at: datetime) -> Document:
    blocks: list[Block] = [Heading(title_of(s)), Heading("总览", 2), _overview(s)]
    blocks += [Heading("主要退款原因", 2), _causes(s.total)]
    for store in s.stores if len(s.stores) > 1 else ():
        blocks += [Heading(f"门店：{store.name}", 2), _causes(store)]
    for kind, cases in s.notable.items():
        blocks += [Heading(NOTABLE_ZH[kind], 2), _cases(s, cases)]
    blocks += _open_items(s)
    blocks += _advice(s)
    if s.pending_days:
        blocks.append(Paragraph(f"注：{len(s.pending_days)} 天的数据仍在汇总中，数字可能略有变化。"))
    return Document(
        title=title_of(s),
        blocks=tuple(blocks),
        footer=f"posrefund · 生成于 {printed_at.astimezone(SHANGHAI).strftime('%Y-%m-%d %H:%M')}",
        keywords=("退款原因", CADENCE_ZH[s.cadence], s.period_key),
    )
