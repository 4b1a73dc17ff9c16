"""The catalogue of risk rules: what each looks for and why it matters (中文 and English), the subject it is about,
its thresholds with their defaults and bounds, and each merchant's overrides (on/off, thresholds)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from posrefund.domain.errors import Invalid


@dataclass(frozen=True, slots=True)
class Param:
    name: str
    default: float
    lo: float
    hi: float
    integer: bool = True  # money, counts, minutes; only the statistics' z-scores are fractional


@dataclass(frozen=True, slots=True)
class Rule:
    code: str
    subject: str  # cashier, terminal, card, phone
    title: tuple[str, str]
    explain: tuple[str, str]
    summary: tuple[str, str]  # one line about one alert, filled from its measures
    params: tuple[Param, ...]


def _p(name: str, default: float, lo: float, hi: float, integer: bool = True) -> Param:
    return Param(name, default, lo, hi, integer)


COUNT = 1_000  # no threshold counts beyond this
FEN = 10**11
RULES: tuple[Rule, ...] = (
    Rule(
        "own_sale",
        "cashier",
        ("收银员退自己收款的销售", "Cashier refunds their own sales"),
        (
            "同一个人既收款又退款，没有第二个人看到钱的去向；柜台退款舞弊最常见的形态是收银员把自己经手的销售退到自己控制的账户。"
            "收款后当场（默认 30 分钟内）的退款不计，那是顾客当面改主意。",
            "One person took the money and gave it back, with nobody else seeing where it went: the commonest counter "
            "fraud is a cashier refunding sales they rang up to an account they control. Refunds at the counter right "
            "after the sale (30 minutes by default) do not count: that is a customer changing their mind.",
        ),
        (
            "{count} 笔退款是本人收款的销售（占其退款 {share_pct}%，同店通常 {usual_pct}%，z = {z}），合计 {amount}",
            "{count} refunds of own sales ({share_pct}% of their refunds, usual in the store {usual_pct}%, z = {z}), "
            "{amount} in all",
        ),
        (
            _p("min_count", 8, 1, COUNT),
            _p("z", 3.0, 1, 50, integer=False),
            _p("min_gap_minutes", 30, 0, 1_440),
            _p("high_fen", 200_000, 1, FEN),
        ),
    ),
    Rule(
        "payee_not_payer",
        "cashier",
        ("退到非付款人的卡或手机", "Refund paid to a card or phone other than the payer's"),
        (
            "退款应原路退回付款人；退到另一张卡或另一个手机号，是把顾客的钱转给第三人的直接手段。",
            "A refund goes back to whoever paid; paying it to another card or phone moves a customer's money to a "
            "third person.",
        ),
        (
            "{count} 笔退款的收款方不是原付款人，合计 {amount}",
            "{count} refunds paid to someone other than the payer, {amount}",
        ),
        (_p("high_count", 2, 1, COUNT), _p("high_fen", 50_000, 1, FEN)),
    ),
    Rule(
        "near_limit",
        "cashier",
        ("退款金额贴近审批线或拆分", "Refunds just under an approval limit, or split"),
        (
            "金额刚好低于免审或双人审批线，或一笔销售拆成几笔各自低于审批线的退款，是绕开审核的典型做法（拆单）。",
            "Amounts just under the auto-approval or two-person limit, or one sale refunded in parts that each stay "
            "under a limit, are how a review is avoided (structuring).",
        ),
        (
            "{near} 笔退款在审批线下 {margin_pct}% 以内，{split} 笔销售被拆分退款",
            "{near} refunds within {margin_pct}% under a limit, {split} sales refunded in split parts",
        ),
        (
            _p("margin_pct", 10, 1, 50),
            _p("min_count", 5, 1, COUNT),
            _p("min_split_sales", 2, 1, COUNT),
            _p("split_within_minutes", 1_440, 1, 43_200),
        ),
    ),
    Rule(
        "cash_for_electronic",
        "cashier",
        ("刷卡或扫码的销售用现金退款", "Cash refunds of card or wallet sales"),
        (
            "刷卡、微信、支付宝的销售应原路退回；改用现金退，钱从钱箱出去而顾客可能从未来过。",
            "Card and wallet sales go back by their route; a cash refund takes money from the till for a customer "
            "who may never have come.",
        ),
        (
            "{count} 笔电子支付销售以现金或转账退款，合计 {amount}",
            "{count} card/wallet sales refunded in cash or by transfer, {amount}",
        ),
        (_p("min_count", 2, 1, COUNT), _p("high_count", 4, 1, COUNT)),
    ),
    Rule(
        "quick_refund",
        "cashier",
        ("销售后很快退款", "Refunds soon after the sale"),
        (
            "收款后几分钟内就退款（收错金额、重复扣款除外），常见于先刷后退的套取或配合他人。",
            "A refund minutes after the sale (other than a wrong amount or a double charge) is how sale-and-refund "
            "schemes run.",
        ),
        (
            "{count} 笔退款在销售后 {within_minutes} 分钟内",
            "{count} refunds within {within_minutes} minutes of the sale",
        ),
        (_p("within_minutes", 10, 1, 1_440), _p("min_count", 5, 1, COUNT), _p("high_count", 10, 1, COUNT)),
    ),
    Rule(
        "after_hours",
        "cashier",
        ("营业时间外退款", "Refunds outside opening hours"),
        (
            "门店关门后没有顾客在场，此时发起的退款无人见证。",
            "After closing no customer is at the counter: a refund then has no witness.",
        ),
        ("{count} 笔退款在营业时间外（{open}–{close}）", "{count} refunds outside opening hours ({open}–{close})"),
        (
            _p("open_minute", 540, 0, 1_439),
            _p("close_minute", 1_320, 1, 1_440),
            _p("min_count", 2, 1, COUNT),
            _p("high_count", 5, 1, COUNT),
        ),
    ),
    Rule(
        "velocity",
        "cashier",
        ("短时间内退款过多", "Too many refunds in a short time"),
        (
            "同一收银员、同一终端或同一张卡在短时间内连续退款，超出正常柜台节奏。",
            "Many refunds in a short time by one cashier, at one terminal or to one card: beyond a counter's pace.",
        ),
        ("{count} 笔退款集中在 {within_minutes} 分钟内", "{count} refunds within {within_minutes} minutes"),
        (
            _p("cashier_count", 6, 2, COUNT),
            _p("terminal_count", 8, 2, COUNT),
            _p("within_minutes", 60, 1, 1_440),
            _p("card_count", 3, 2, COUNT),
            _p("card_within_minutes", 1_440, 1, 43_200),
        ),
    ),
    Rule(
        "many_stores",
        "phone",
        ("同一手机或卡在多家门店退款", "One phone or card refunded in many stores"),
        (
            "同一个手机号或卡在多家门店都有退款，常是团伙用同一收款账户在各店套取。",
            "One customer phone or card receiving refunds in several stores is often one ring cashing out through "
            "every store.",
        ),
        ("{count} 笔退款分布在 {stores} 家门店", "{count} refunds across {stores} stores"),
        (_p("min_stores", 3, 2, COUNT), _p("high_stores", 4, 2, COUNT)),
    ),
    Rule(
        "round_cycles",
        "card",
        ("整数金额的先消费后全额退款（套现）", "Round-amount sale-then-refund cycles (cash-out)"),
        (
            "同一张卡反复以整百金额消费后很快全额退款，是信用卡套现或洗钱的循环。",
            "One card paying round amounts and getting them back in full soon after, again and again, is a "
            "cash-out or laundering cycle.",
        ),
        ("{count} 次整额消费后全额退款，合计 {amount}", "{count} round sales refunded in full, {amount}"),
        (
            _p("unit_fen", 10_000, 100, FEN),
            _p("min_fen", 100_000, 1, FEN),
            _p("within_days", 3, 1, 365),
            _p("min_count", 2, 1, COUNT),
            _p("high_count", 3, 1, COUNT),
        ),
    ),
    Rule(
        "repeat_wrong_charge",
        "cashier",
        ("同一收银员反复收错款", "Repeated wrong charges by one cashier"),
        (
            "偶尔收错是正常的；同一个人反复收错金额或重复扣款，再以更正为由退款，可能是有意为之。",
            "An occasional wrong charge is normal; one person charging wrong again and again, each time refunded as a "
            "correction, may be deliberate.",
        ),
        ("{count} 笔因收错款退款", "{count} refunds of wrong charges"),
        (_p("min_count", 3, 1, COUNT), _p("high_count", 5, 1, COUNT)),
    ),
    Rule(
        "failing_terminal",
        "terminal",
        ("同一终端退款反复失败", "Refunds failing repeatedly at one terminal"),
        (
            "同一终端的退款屡次被渠道拒绝或异常，可能是在试探（对已结算、不属于本店的交易退款），也可能终端故障。",
            "Refunds declined or abnormal again and again at one terminal: someone probing (refunding sales that are "
            "not ours or already settled), or a faulty terminal.",
        ),
        ("{count} 笔退款失败或异常", "{count} refunds failed or abnormal"),
        (_p("min_count", 3, 1, COUNT), _p("high_count", 6, 1, COUNT)),
    ),
    Rule(
        "refund_rate",
        "cashier",
        ("退款率明显高于同店同事", "Refund rate far above the store's peers"),
        (
            "收银员的退款笔数/销售笔数与同店同事比较（中位数与 MAD 的稳健 z 分数），新员工阈值更严。",
            "Each cashier's refunds per sale against the peers of the same store (robust z-score: median and MAD); "
            "new cashiers on a shorter leash.",
        ),
        (
            "退款率 {rate_pct}%，同店中位数 {median_pct}%，稳健 z = {z}（阈值 {threshold}）",
            "refund rate {rate_pct}%, store median {median_pct}%, robust z = {z} (threshold {threshold})",
        ),
        (
            _p("z", 3.5, 1, 50, integer=False),
            _p("new_z", 2.5, 1, 50, integer=False),
            _p("min_refunds", 5, 1, COUNT),
            _p("new_min_refunds", 3, 1, COUNT),
            _p("new_days", 30, 0, 365),
            _p("min_sales", 30, 1, 10**6),
            _p("min_peers", 3, 2, COUNT),
        ),
    ),
)
BY_CODE: dict[str, Rule] = {r.code: r for r in RULES}
Settings = dict[str, dict[str, Any]]


def check_settings(doc: Any) -> Settings:
    """A merchant's overrides, refused unless every rule, name and value is known and within bounds."""
    if not isinstance(doc, dict):
        raise Invalid("risk.invalid_setting", rule="", field="")
    out: Settings = {}
    for code, values in doc.items():
        rule = BY_CODE.get(code)
        if rule is None:
            raise Invalid("risk.unknown_rule", rule=str(code)[:40])
        if not isinstance(values, dict):
            raise Invalid("risk.invalid_setting", rule=code, field="")
        params = {p.name: p for p in rule.params}
        out[code] = {}
        for name, value in values.items():
            if name == "enabled" and isinstance(value, bool):
                out[code][name] = value
                continue
            p = params.get(name)
            if p is None or not _within(p, value):
                raise Invalid("risk.invalid_setting", rule=code, field=str(name)[:40])
            out[code][name] = value
    return out


def _within(p: Param, value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    if p.integer and not isinstance(value, int):
        return False
    return p.lo <= value <= p.hi


def merge(stored: Settings | None, overrides: Settings | None = None) -> Settings:
    """Every rule's effective settings: defaults, then the stored overrides, then those of a back-test."""
    out: Settings = {}
    for rule in RULES:
        values: dict[str, Any] = {"enabled": True, **{p.name: p.default for p in rule.params}}
        values.update((stored or {}).get(rule.code, {}))
        values.update((overrides or {}).get(rule.code, {}))
        out[rule.code] = values
    return out
