"""Money as integer fen (分) with a currency; floats never enter."""

from __future__ import annotations

from dataclasses import dataclass

from posrefund.domain.errors import Invalid

SUPPORTED_CURRENCIES = frozenset({"CNY", "HKD", "USD"})


@dataclass(frozen=True, slots=True)
class Money:
    """An amount in the currency's minor unit (fen for CNY)."""

    fen: int
    currency: str = "CNY"

    def __post_init__(self) -> None:
        if isinstance(self.fen, bool) or not isinstance(self.fen, int):
            raise Invalid("money.not_integer", value=repr(self.fen))
        if self.currency not in SUPPORTED_CURRENCIES:
            raise Invalid("money.unsupported_currency", currency=self.currency)

    def _same(self, other: Money) -> None:
        if other.currency != self.currency:
            raise Invalid("money.currency_mismatch", left=self.currency, right=other.currency)

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.fen + other.fen, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.fen - other.fen, self.currency)

    def __le__(self, other: Money) -> bool:
        self._same(other)
        return self.fen <= other.fen

    def __lt__(self, other: Money) -> bool:
        self._same(other)
        return self.fen < other.fen


def format_yuan(fen: int, currency: str = "CNY") -> str:
    """``123456`` → ``¥1,234.56``; for display at the edges only."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    symbol = "¥" if currency == "CNY" else f"{currency} "
    return f"{sign}{symbol}{whole:,}.{cents:02d}"
