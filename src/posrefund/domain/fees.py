"""Acquiring fee contracts (手续费费率): what a merchant agreed to pay per channel and card type, and what is due.

A contract is a list of **periods**. Each period holds the whole set of rules in force from ``effective_from``
to ``effective_to`` (inclusive; open-ended until the next period starts). A change of rates is a new period:
history is never rewritten, so a fee charged on any day can be checked against what was agreed that day.

Rates are integers in **ppm of the amount** (百万分之一; one hundredth of a basis point): 0.6 % = 6 000,
0.38 % = 3 800, 0.555 % = 5 550. A fee is ``amount × rate / 1 000 000`` rounded **half up to the fen**, then
raised to the rule's minimum and lowered to its cap. A charged fee within ``TOLERANCE_FEN`` (1 fen) of the fee due
is accepted: acquirers round sub-fen remainders their own way.

A period raising a fee binds the merchant only from the date they consented to it: before that date the fee due
is the lower of the new period's and the last consented period's (a decrease needs no consent).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from posrefund.domain.errors import Conflict, Invalid
from posrefund.domain.reconciliation import FeeRate

PPM = 1_000_000  # rate unit: one millionth of the amount
MAX_RATE_PPM = 100_000  # 10 %: anything above is a typing error, not a contract
TOLERANCE_FEN = 1
FEE_CHANNELS = ("card", "wechat", "alipay", "unionpay_qr")


class CardType(StrEnum):
    """What the rule prices: the card's kind, or ``any`` (a wallet's one rate, whatever paid it)."""

    DEBIT = "debit"  # 借记卡
    CREDIT = "credit"  # 贷记卡 / 准贷记卡
    FOREIGN = "foreign"  # 境外卡 / 外卡
    WALLET = "wallet"  # 零钱 / 余额: the wallet's own balance
    ANY = "any"


CARD_TYPE_ZH = {"debit": "借记卡", "credit": "贷记卡", "foreign": "境外卡", "wallet": "钱包余额", "any": "不分卡种"}
CHANNEL_ZH = {"card": "银行卡", "wechat": "微信支付", "alipay": "支付宝", "unionpay_qr": "银联二维码"}


@dataclass(frozen=True, slots=True)
class FeeRule:
    """One line of a contract: the rate for a channel and card type, for amounts from ``band_from_fen`` up to the
    next band of the same channel and card type (QR: 0.38 % below 1 000 yuan, 0.55 % from it)."""

    channel: str
    card_type: str
    rate_ppm: int
    band_from_fen: int = 0
    cap_fen: int | None = None
    min_fen: int = 0
    returned_on_refund: bool = True

    def __post_init__(self) -> None:
        if self.channel not in FEE_CHANNELS:
            raise Invalid("fees.unknown_channel", channel=self.channel)
        if self.card_type not in CardType.__members__.values():
            raise Invalid("fees.unknown_card_type", card_type=self.card_type)
        if not _whole(self.rate_ppm) or not 0 <= self.rate_ppm <= MAX_RATE_PPM:
            raise Invalid("fees.invalid_rate", channel=self.channel, max_ppm=MAX_RATE_PPM)
        if not _whole(self.band_from_fen) or self.band_from_fen < 0:
            raise Invalid("fees.invalid_band", channel=self.channel)
        if not _whole(self.min_fen) or self.min_fen < 0:
            raise Invalid("fees.invalid_minimum", channel=self.channel)
        if self.cap_fen is not None and (not _whole(self.cap_fen) or self.cap_fen < self.min_fen):
            raise Invalid("fees.cap_below_minimum", channel=self.channel)

    def fee(self, base_fen: int) -> int:
        """The fee on a settled amount: half up to the fen, then the minimum, then the cap."""
        raw = (base_fen * self.rate_ppm + PPM // 2) // PPM
        fee = max(raw, self.min_fen)
        return min(fee, self.cap_fen) if self.cap_fen is not None else fee

    def describe(self) -> str:
        """The rule in the words of the contract: 银行卡 借记卡 0.50%，封顶 20.00 元."""
        text = f"{CHANNEL_ZH[self.channel]} {CARD_TYPE_ZH[self.card_type]} {percent(self.rate_ppm)}"
        if self.band_from_fen:
            text += f"（{yuan(self.band_from_fen)} 元及以上）"
        if self.min_fen:
            text += f"，最低 {yuan(self.min_fen)} 元"
        if self.cap_fen is not None:
            text += f"，封顶 {yuan(self.cap_fen)} 元"
        return text


@dataclass(frozen=True, slots=True)
class FeePeriod:
    """The rules in force over a span of days, and the merchant's consent to them (date and reference)."""

    effective_from: date
    rules: tuple[FeeRule, ...]
    effective_to: date | None = None
    consented_on: date | None = None
    consent_ref: str = ""
    id: str = ""

    def __post_init__(self) -> None:
        if self.effective_to is not None and self.effective_to < self.effective_from:
            raise Invalid("fees.invalid_period")
        if not self.rules:
            raise Invalid("fees.no_rules")
        keys = [(r.channel, r.card_type, r.band_from_fen) for r in self.rules]
        if len(set(keys)) != len(keys):
            raise Invalid("fees.duplicate_rule")

    def covers(self, day: date) -> bool:
        return self.effective_from <= day and (self.effective_to is None or day <= self.effective_to)

    def rule_for(self, channel: str, card_type: str, base_fen: int) -> FeeRule | None:
        """The band of the card type's rules (else of the ``any`` rules) that the amount falls in."""
        for kind in (card_type, CardType.ANY.value):
            bands = [r for r in self.rules if r.channel == channel and r.card_type == kind]
            inside = [r for r in bands if r.band_from_fen <= base_fen]
            if inside:
                return max(inside, key=lambda r: r.band_from_fen)
        return None


def _whole(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def percent(rate_ppm: int) -> str:
    """6000 → ``0.60%``, 5550 → ``0.555%``: at least two decimals, more only when the contract has them."""
    whole, rest = divmod(rate_ppm, 10_000)
    digits = f"{rest:04d}".rstrip("0").ljust(2, "0")
    return f"{whole}.{digits}%"


def yuan(fen: int) -> str:
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    return f"{sign}{whole:,}.{cents:02d}"


def flat_contract(rates: Iterable[FeeRate]) -> list[FeePeriod]:
    """Flat rates per channel (basis points, an optional large-amount rate) as a contract in force on every day:
    the fee check of a merchant who set rates but no contract. Rounding is the same (half up to the fen)."""
    rules: list[FeeRule] = []
    for r in rates:
        rules.append(FeeRule(r.channel, CardType.ANY.value, r.rate_bp * 100))
        if r.large_rate_bp is not None and r.large_from_fen is not None:
            rules.append(FeeRule(r.channel, CardType.ANY.value, r.large_rate_bp * 100, band_from_fen=r.large_from_fen))
    return [FeePeriod(date.min, tuple(rules))] if rules else []


def check_new_period(existing: Sequence[FeePeriod], new: FeePeriod) -> None:
    """History only grows: a new period starts after every existing one started and after any end already
    fixed; the open period before it ends the day before it starts."""
    for p in existing:
        if new.effective_from <= p.effective_from or (
            p.effective_to is not None and new.effective_from <= p.effective_to
        ):
            raise Conflict("fees.period_overlap", effective_from=new.effective_from.isoformat())


def end_of(periods: Sequence[FeePeriod], period: FeePeriod) -> date | None:
    """The last day a period is in force: its own end, or the day before the next one starts."""
    later = [p.effective_from for p in periods if p.effective_from > period.effective_from]
    nxt = min(later) - timedelta(days=1) if later else None
    if period.effective_to is None:
        return nxt
    return period.effective_to if nxt is None else min(period.effective_to, nxt)


def period_on(periods: Sequence[FeePeriod], day: date) -> FeePeriod | None:
    """The period in force on a day: the latest started whose end has not passed."""
    started = [p for p in periods if p.effective_from <= day]
    if not started:
        return None
    latest = max(started, key=lambda p: p.effective_from)
    end = end_of(periods, latest)
    return latest if end is None or day <= end else None


def _binding_before(periods: Sequence[FeePeriod], period: FeePeriod, day: date) -> FeePeriod | None:
    """The latest earlier period the merchant had agreed to on the day (the first period is the contract)."""
    earlier = sorted((p for p in periods if p.effective_from < period.effective_from), key=lambda p: p.effective_from)
    for p in reversed(earlier):
        if p is earlier[0] or (p.consented_on is not None and p.consented_on <= day):
            return p
    return None


def held_back_by(periods: Sequence[FeePeriod], period: FeePeriod, day: date) -> FeePeriod | None:
    """The earlier period whose fee still binds on ``day`` when it is lower: ``period`` (the one in force) is not
    consented to yet that day. None: consented, or nothing was agreed before it."""
    if period.consented_on is not None and period.consented_on <= day:
        return None
    return _binding_before(periods, period, day)


@dataclass(frozen=True, slots=True)
class FeeDue:
    """The fee due on one line and the rule that says so (None: no contract covers the line)."""

    fee_fen: int | None
    rule: str
    returned_on_refund: bool = True


def _rule_fee(
    period: FeePeriod, channel: str, card_types: Iterable[str], base: int, highest: bool
) -> tuple[int, FeeRule] | None:
    """The highest (or lowest) fee any of the possible card types costs under a period."""
    priced = [(r.fee(base), r) for k in card_types if (r := period.rule_for(channel, k, base)) is not None]
    if not priced:
        return None
    return (max if highest else min)(priced, key=lambda x: x[0])


def fee_due(
    periods: Sequence[FeePeriod], channel: str, card_type: str, day: date, base_fen: int, *, highest: bool = True
) -> FeeDue:
    """The fee a sale of ``base_fen`` settled on ``day`` should cost. A line that does not say its card type
    (some acquirers' files) is due the highest fee of the card types the contract prices for the channel (the
    lowest with ``highest=False``, for what a refund must give back): a claim never rests on a guess."""
    period = period_on(periods, day)
    if period is None:
        return FeeDue(None, "无有效费率合同")
    kinds = (card_type,) if card_type else possible_card_types(period, channel)
    found = _priced(periods, period, channel, kinds, day, base_fen, highest)
    if found is None:
        return FeeDue(None, f"合同未约定 {CHANNEL_ZH.get(channel, channel)} 的费率")
    fee, rule, held = found
    text = rule.describe()
    if held:
        text = f"{text}（{period.effective_from} 起的调价商户未同意，按原费率）"
    return FeeDue(fee, text, rule.returned_on_refund)


def _priced(
    periods: Sequence[FeePeriod],
    period: FeePeriod,
    channel: str,
    kinds: Iterable[str],
    day: date,
    base_fen: int,
    highest: bool,
) -> tuple[int, FeeRule, bool] | None:
    """``fee_due``'s fee and rule under ``period`` (the one in force on ``day``), and whether the rule is the one
    before a price change the merchant has not consented to (a lower fee binds until consent)."""
    found = _rule_fee(period, channel, kinds, base_fen, highest)
    if found is None:
        return None
    old = held_back_by(periods, period, day)
    before = _rule_fee(old, channel, kinds, base_fen, highest) if old is not None else None
    if before is not None and before[0] < found[0]:
        return before[0], before[1], True
    return found[0], found[1], False


def possible_card_types(period: FeePeriod, channel: str) -> tuple[str, ...]:
    kinds = sorted({r.card_type for r in period.rules if r.channel == channel})
    return tuple(kinds) or (CardType.ANY.value,)


def fee_accepted(
    periods: Sequence[FeePeriod], channel: str, card_type: str, day: date, base_fen: int, fee: int
) -> bool:
    """Reconciliation's test of a charged fee: within tolerance of the fee due, or of any card type's fee when
    the line does not say which card paid. No contract for the day: nothing to compare, accepted."""
    period = period_on(periods, day)
    if period is None:
        return True
    kinds = (card_type,) if card_type else possible_card_types(period, channel)
    # ``fee_due`` per card type, without the words (a run asks this of every matched sale).
    priced = [_priced(periods, period, channel, (k,), day, base_fen, True) for k in kinds]
    known = [found[0] for found in priced if found is not None]
    return not known or any(abs(fee - d) <= TOLERANCE_FEN for d in known)


@dataclass(frozen=True, slots=True)
class ChargedLine:
    """A fee the channel actually charged, as imported from its settlement file. ``fee_fen`` is positive when
    charged, negative when returned on a refund; ``base_fen`` is what the channel settled (the fee's base)."""

    line_id: int
    line_no: int
    day: date
    kind: str  # sale / refund / void
    channel: str
    card_type: str
    amount_fen: int
    base_fen: int
    fee_fen: int


@dataclass(frozen=True, slots=True)
class StatementLine:
    """One overcharged line of a fee-refund statement: charged − due = difference (what is owed back)."""

    line_id: int
    line_no: int
    day: date
    kind: str
    amount_fen: int
    charged_fen: int
    due_fen: int
    difference_fen: int
    rule: str

    def as_row(self) -> dict[str, object]:
        """The line as the statement shows it (API, CLI, console): the day as ``date``, ISO."""
        return {
            "line_id": self.line_id,
            "line_no": self.line_no,
            "date": self.day.isoformat(),
            "kind": self.kind,
            "amount_fen": self.amount_fen,
            "charged_fen": self.charged_fen,
            "due_fen": self.due_fen,
            "difference_fen": self.difference_fen,
            "rule": self.rule,
        }


def line_due(periods: Sequence[FeePeriod], line: ChargedLine) -> FeeDue:
    """What a line should have cost: a sale its fee; a refund the fee returned (negative) when the rule returns
    fees on refunds, else nothing back; a void nothing at all (the sale never settled)."""
    if line.kind == "void":
        return FeeDue(0, "撤销交易不收手续费")
    sale = line.kind == "sale"
    due = fee_due(periods, line.channel, line.card_type, line.day, line.base_fen, highest=sale)
    if sale or due.fee_fen is None:
        return due
    if not due.returned_on_refund:
        return FeeDue(0, f"{due.rule}，退款不退手续费", False)
    return FeeDue(-due.fee_fen, f"{due.rule}，退款退还所退金额的手续费")


def overcharge_statement(periods: Sequence[FeePeriod], lines: Iterable[ChargedLine]) -> list[StatementLine]:
    """Every line charged more than the contract allows (beyond the tolerance), with the rule applied. Lines no
    contract covers are left out: there is nothing to claim on them."""
    out: list[StatementLine] = []
    for line in lines:
        due = line_due(periods, line)
        if due.fee_fen is None:
            continue
        diff = line.fee_fen - due.fee_fen
        if diff > TOLERANCE_FEN:
            out.append(
                StatementLine(
                    line.line_id,
                    line.line_no,
                    line.day,
                    line.kind,
                    line.amount_fen,
                    line.fee_fen,
                    due.fee_fen,
                    diff,
                    due.rule,
                )
            )
    return out
