"""Why refunds happen and what would prevent them: the refund-cause summary's (退款原因周报 / 月报) table of
prevention rules. Each rule looks at one cause at one place (a terminal or a store) over the period and, when
the cause is frequent enough there, suggests the fix a careful merchant would make — training and a
confirmation step for amounts keyed wrong at one terminal, stock checks for orders cancelled, and so on.
Pure: the counts come in, the suggestions go out; the thresholds are in the table, not in the code."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

REASON_ZH: dict[str, str] = {
    "goods_quality": "商品质量问题",
    "service_issue": "服务问题",
    "customer_cancelled": "顾客取消 / 不想要了",
    "deposit_return": "退还定金",
    "transaction_error": "交易错误",
    "wrong_amount": "错收金额",
    "duplicate_charge": "重复扣款",
    "system_fault": "系统故障 / 网络故障",
    "other": "其他",
}


@dataclass(frozen=True, slots=True)
class PreventionRule:
    code: str
    reason: str  # the refund reason it watches
    place: str  # terminal | store: where the refunds are counted together
    min_count: int  # at least this many refunds of the reason there in the period …
    min_share: float  # … making at least this share of that place's refunds
    advice: str  # what to do, in Chinese (the summary's language)


RULES: tuple[PreventionRule, ...] = (
    PreventionRule(
        "keyed_amount",
        "wrong_amount",
        "terminal",
        3,
        0.10,
        "该终端错收金额退款偏多：建议对该终端收银员进行金额输入培训，并在收款前增加金额确认步骤（顾客确认屏或唱收）。",
    ),
    PreventionRule(
        "double_charge",
        "duplicate_charge",
        "terminal",
        2,
        0.05,
        "该终端重复扣款偏多：交易超时后应先查询原交易再重新收款；请检查终端网络，并联系服务商排查。",
    ),
    PreventionRule(
        "faulty_terminal",
        "system_fault",
        "terminal",
        2,
        0.05,
        "该终端系统 / 网络故障导致的退款偏多：请联系服务商检修终端或更换网络线路。",
    ),
    PreventionRule(
        "cashier_error",
        "transaction_error",
        "terminal",
        3,
        0.10,
        "该终端交易错误偏多：建议复盘收银操作流程（选错支付方式、选错商品），安排操作培训。",
    ),
    PreventionRule(
        "quality",
        "goods_quality",
        "store",
        10,
        0.30,
        "该门店质量问题退款占比高：建议加强到货验收与上架前检查，并向供应商反馈问题批次。",
    ),
    PreventionRule(
        "cancelled",
        "customer_cancelled",
        "store",
        10,
        0.35,
        "该门店顾客取消偏多（常见于缺货、交期过长）：建议收款前确认库存与交付时间，库存不足时先告知顾客。",
    ),
    PreventionRule(
        "service",
        "service_issue",
        "store",
        5,
        0.15,
        "该门店服务问题退款偏多：建议复盘服务流程并安排服务培训。",
    ),
)
GROWTH_MIN = 5  # a cause is called out as growing when it has at least this many refunds …
GROWTH_FACTOR = 2.0  # … and at least this many times the previous period's


@dataclass(frozen=True, slots=True)
class Suggestion:
    rule: str
    place: str
    place_id: str
    reason: str
    count: int
    share: float
    advice: str


def suggestions(counts: Mapping[tuple[str, str], Mapping[str, int]]) -> list[Suggestion]:
    """``counts[(place, place_id)][reason]``: refunds of each reason at each terminal and store. Every rule
    that fires, most refunds first."""
    out = []
    for (place, place_id), by_reason in counts.items():
        total = sum(by_reason.values())
        for rule in RULES:
            n = by_reason.get(rule.reason, 0)
            if rule.place == place and total and n >= rule.min_count and n / total >= rule.min_share:
                out.append(Suggestion(rule.code, place, place_id, rule.reason, n, round(n / total, 4), rule.advice))
    return sorted(out, key=lambda s: (-s.count, s.rule, s.place_id))


def growing(now: int, before: int) -> bool:
    return now >= GROWTH_MIN and now >= GROWTH_FACTOR * max(before, 1)


def change(now: int, before: int) -> float | None:
    """The change against the previous period as a fraction (+0.5 = half as many again); None from nothing."""
    return None if before == 0 else round((now - before) / before, 4)


# ---- periods: a week (ISO, Monday first) or a calendar month, in local days ----


def last_complete(cadence: str, today: date) -> str:
    """The key of the last whole week (its Monday) or month before ``today``: what is due to be sent."""
    if cadence == "weekly":
        monday = today - timedelta(days=today.weekday() + 7)
        return monday.isoformat()
    last_month = today.replace(day=1) - timedelta(days=1)
    return last_month.strftime("%Y-%m")
