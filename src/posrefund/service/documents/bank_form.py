"""The 退费申请 form as a document: the merchant, the original sale as the bank will look it up (date, amount in
yuan, voucher no., reference no. (RRN), the card masked — first six and last four digits at most; the full
number was never stored), why the terminal cannot refund it, the evidence and the papers handed over, and the
lines to sign. Pure: the facts are gathered by the use case and handed in."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from posrefund.domain.bank_application import CHANNEL_ZH, EVIDENCE_ZH, STATUS_ZH, WHY_ZH, masked_card
from posrefund.domain.cause_rules import REASON_ZH
from posrefund.domain.money import format_yuan
from posrefund.domain.refund import RefundCase
from posrefund.domain.sale import Sale
from posrefund.ports import EvidenceRow, MerchantRow, StoreRow, TerminalRow
from posrefund.ports.documents import (
    BankApplicationRow,
    Document,
    Fields,
    Heading,
    Paragraph,
    Signatures,
    Table,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
PLEDGE = (
    "本商户承诺：以上交易信息及所附材料真实、完整；该笔交易因上述原因无法通过 POS 终端办理退货，"
    "特申请贵行按原路将上述金额退还持卡人。如有不实，本商户承担相应责任。"
)


@dataclass(frozen=True, slots=True)
class FormFacts:
    application: BankApplicationRow
    case: RefundCase
    sale: Sale
    merchant: MerchantRow
    store: StoreRow | None
    terminal: TerminalRow | None
    evidence: list[EvidenceRow]


def _local(at: datetime) -> str:
    return at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


def _merchant(f: FormFacts) -> Fields:
    return Fields(
        (
            ("商户名称", f.merchant["name"]),
            ("商户编号", f.merchant["code"]),
            ("门店", f.store["name"] if f.store else ""),
            ("终端号", f.terminal["terminal_no"] if f.terminal else ""),
            ("设备序列号", f.terminal["device_sn"] if f.terminal else ""),
        )
    )


def _sale(f: FormFacts) -> Fields:
    s, c = f.sale, f.case
    return Fields(
        (
            ("交易日期", _local(s.paid_at)),
            ("交易金额", format_yuan(s.amount_fen, s.currency)),
            ("申请退款金额", format_yuan(c.amount_fen, c.currency)),
            ("凭证号", s.voucher_no),
            ("参考号 (RRN)", s.rrn),
            ("批次号", s.batch_no),
            ("授权码", s.auth_code),
            ("卡号（脱敏）", masked_card(s.payer_masked)),
            ("退款单号", c.refund_no),
        )
    )


def _reason(f: FormFacts) -> list[Paragraph]:
    a = f.application
    lines = [
        Paragraph(f"无法通过终端退货的原因：{WHY_ZH.get(a['reason'], a['reason'])}"),
        Paragraph(f"顾客退款原因：{REASON_ZH.get(f.case.reason.value, f.case.reason.value)}"),
    ]
    if a["statement"]:
        lines.append(Paragraph(f"情况说明：{a['statement']}"))
    return lines


def _evidence(f: FormFacts) -> Table:
    rows = tuple(
        (str(n), EVIDENCE_ZH.get(e["kind"], "其他"), e["filename"], _local(e["created_at"]))
        for n, e in enumerate(f.evidence, 1)
    )
    return Table(("序号", "类别", "文件名", "上传时间"), rows, empty="（无电子证据）")


def _papers(f: FormFacts) -> Table:
    names = json.loads(f.application["attachments"])
    return Table(("序号", "随附材料"), tuple((str(n), name) for n, name in enumerate(names, 1)), empty="（无）")


def _tracking(f: FormFacts) -> list[Paragraph]:
    a = f.application
    if a["submitted_on"] is None:
        return []
    said = [
        f"递交：{a['submitted_on'].isoformat()}，{CHANNEL_ZH.get(a['channel'], a['channel'])}，"
        f"{a['bank']}，银行受理编号 {a['bank_reference'] or '—'}；"
        f"答复期限 {a['deadline'].isoformat() if a['deadline'] else '—'}（工作日）"
    ]
    if a["outcome_on"] is not None:
        said.append(f"结果：{STATUS_ZH[a['status']]}（{a['outcome_on'].isoformat()}）{a['bank_reply']}")
    return [Paragraph(line) for line in said]


def application_document(f: FormFacts, printed_at: datetime) -> Document:
    a = f.application
    to = a["bank"] or "收单机构 / 发卡银行"
    return Document(
        title=f"银行卡退费申请书 {a['id']}",
        blocks=(
            Heading("银行卡退费申请书"),
            Paragraph(f"致：{to}"),
            Heading("一、商户信息", 2),
            _merchant(f),
            Heading("二、原交易信息", 2),
            _sale(f),
            Heading("三、申请原因", 2),
            *_reason(f),
            Heading("四、证据清单", 2),
            _evidence(f),
            Heading("五、随附材料", 2),
            _papers(f),
            *_tracking(f),
            Paragraph(PLEDGE),
            Signatures(("经办人签字", "商户负责人签字", "商户盖章")),
        ),
        footer=f"申请编号 {a['id']} · 打印于 {_local(printed_at)}",
        keywords=("退费申请", f.merchant["code"], f.case.refund_no),
    )
