"""A fee contract cut into pieces over which its verdict on a fee cannot change, so a database can judge a
million fees by a join instead of asking ``fees.fee_accepted`` a million times.

What ``fee_due`` and ``fee_accepted`` decide for a line depends on its day, channel, card type and settled base
only through a few comparisons: the day against each period's start, end (``end_of``) and consent date (which
period is in force, whether it is consented yet, which earlier one binds), and the base against each band's
lower bound (which band's rule applies). Between two of those bounds every rule is the same, and only the rule's
arithmetic on the base is left. So a piece is a range of days × a range of bases, for one channel and one card
type as a line says it, naming for each card type the fee is weighed for (``kind``) the rule of the period in
force and the rule of the earlier period whose lower fee binds (``held``). The pieces are found by asking the
contract's own functions (``period_on``, ``held_back_by``, ``possible_card_types``, ``FeePeriod.rule_for``) at
the start of each range: they are the definition, this only says where to ask.

A line's card type outside ``LINE_CARD_TYPES`` (a file's own word) is priced like ``any``: ``rule_for`` finds no
rule of that kind in any period and falls back to ``any`` rules, as it does for ``any`` itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from posrefund.domain.fees import CardType, FeePeriod, FeeRule, end_of, held_back_by, period_on, possible_card_types

# What a line's card type can say that the rules tell apart: not said (every kind the contract prices), or a kind.
LINE_CARD_TYPES = ("", *(kind.value for kind in CardType))


@dataclass(frozen=True, slots=True)
class FeePiece:
    """Lines of ``channel`` and ``card_type`` settled on a day of ``day_from``..``day_to`` (inclusive; None: no
    end) for a base of ``base_from`` up to ``base_to`` (exclusive; None: no end) cost, weighed as ``kind``,
    ``rule``'s fee — or ``held``'s when that is lower (a raise not consented yet). ``rule`` None: the period in
    force does not price the kind (``held``'s fee then only counts towards the highest fee before the raise)."""

    day_from: date
    day_to: date | None
    channel: str
    card_type: str
    kind: str
    base_from: int
    base_to: int | None
    rule: FeeRule | None
    held: FeeRule | None


def fee_pieces(periods: Sequence[FeePeriod]) -> list[FeePiece]:
    """The contract's pieces. Where a line falls in none, the contract prices none of its kinds (no period that
    day, a channel it does not price, a base below every band): its fee is accepted, nothing is due."""
    channels = sorted({r.channel for p in periods for r in p.rules})
    out: list[FeePiece] = []
    for day_from, day_to in _day_ranges(periods):
        period = period_on(periods, day_from)
        if period is None:
            continue
        held = held_back_by(periods, period, day_from)
        for channel in channels:
            bases = _base_ranges((period,) if held is None else (period, held), channel)
            for card_type in LINE_CARD_TYPES:
                kinds = (card_type,) if card_type else possible_card_types(period, channel)
                for base_from, base_to in bases:
                    rules = [
                        (k, period.rule_for(channel, k, base_from), _rule(held, channel, k, base_from)) for k in kinds
                    ]
                    if all(rule is None for _, rule, _ in rules):
                        continue  # nothing priced: accepted whatever the old period said
                    out.extend(
                        FeePiece(day_from, day_to, channel, card_type, k, base_from, base_to, rule, old)
                        for k, rule, old in rules
                        if rule is not None or old is not None
                    )
    return out


def _rule(period: FeePeriod | None, channel: str, kind: str, base: int) -> FeeRule | None:
    return None if period is None else period.rule_for(channel, kind, base)


def _day_ranges(periods: Sequence[FeePeriod]) -> list[tuple[date, date | None]]:
    """The days cut at every start, the day after every end and every consent date: inside a range the same
    period is in force, consented or not, with the same earlier period binding."""
    cuts: set[date] = set()
    for p in periods:
        cuts.add(p.effective_from)
        end = end_of(periods, p)
        if end is not None and end < date.max:
            cuts.add(end + timedelta(days=1))
        if p.consented_on is not None:
            cuts.add(p.consented_on)
    starts = sorted(cuts)
    ends: list[date | None] = [nxt - timedelta(days=1) for nxt in starts[1:]]
    return list(zip(starts, [*ends, None], strict=False))  # no periods: no starts, no ranges


def _base_ranges(periods: Sequence[FeePeriod], channel: str) -> list[tuple[int, int | None]]:
    """The bases cut at every band of the channel in the periods: inside a range each kind has the same rule. Below
    the lowest band no rule of the channel applies (every band starts at 0 or above, so a negative base is in no
    range)."""
    starts = sorted({r.band_from_fen for p in periods for r in p.rules if r.channel == channel})
    return list(zip(starts, [*starts[1:], None], strict=False))
