"""The schemes planted in the demo month, one per rule, each on its own cashier (or customer ring), and two
honest oddities that may raise a low alert but never more. Each scheme goes into the answer key with the
refunds it made."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from posrefund.demo.risk_month import Cashier, Month, Planner

RING_PHONE = "13800138000"
RING_CARD = "621700******4321"
CYCLE_CARD = "436742******8888"
MULE_CARD = "622848******7777"


class Schemes:
    def __init__(self, p: Planner) -> None:
        self.p = p
        self.rng = p.rng
        self.by_key = {c.key: c for c in p.m.cashiers}

    def _note(self, name: str, rule: str, kind: str, subject: str, cashier: str | None, keys: list[str]) -> None:
        self.p.m.schemes.append(
            {"name": name, "rule": rule, "subject_kind": kind, "subject": subject, "cashier": cashier, "refunds": keys}
        )

    def _sales(
        self, store: int, lo: int = 0, hi: int = 10**9, cashier: str | None = None, channels: tuple[str, ...] = ()
    ) -> list[dict[str, Any]]:
        refunded = {r["sale"] for r in self.p.m.refunds}
        return [
            s
            for s in self.p.m.sales
            if s["store"] == store
            and lo <= s["amount_fen"] <= hi
            and s["key"] not in refunded
            and (cashier is None or s["cashier"] == cashier)
            and (not channels or s["channel"] in channels)
        ]

    def _working_hour(self, c: Cashier, after_day: int) -> tuple[int, float] | None:
        for day in range(after_day, self.p.days):
            hours = self.p.shift(c, day)
            if hours:
                return day, self.rng.uniform(hours[0] + 0.1, hours[1] - 0.2)
        return None

    def _day(self, sale: dict[str, Any]) -> int:
        return int((sale["paid_at"] - self.p.m.start).days)

    def later_by(self, c: Cashier, sales: list[dict[str, Any]], n: int, reason: str, **kw: Any) -> list[str]:
        """``c`` refunds ``n`` of ``sales`` in full on a later shift of theirs."""
        keys: list[str] = []
        for sale in self.rng.sample(sales, len(sales)):
            if len(keys) == n:
                break
            when = self._working_hour(c, self._day(sale) + self.rng.randint(1, 3))
            if when:
                keys.append(self.p.refund(sale, c, self.p.at(*when), sale["amount_fen"], reason, **kw))
        return keys

    def plant(self) -> None:
        p, c = self.p, self.by_key
        mine = self._sales(0, 15_000, 60_000, cashier="c01")
        self._note(
            "own sales refunded to the till",
            "own_sale",
            "cashier",
            "c01",
            "c01",
            self.later_by(c["c01"], mine, 16, "customer_cancelled"),
        )
        cards = self._sales(0, 20_000, 90_000, channels=("card",))
        self._note(
            "refunds paid to a mule card",
            "payee_not_payer",
            "cashier",
            "c02",
            "c02",
            self.later_by(c["c02"], cards, 3, "goods_quality", payee=MULE_CARD),
        )
        self._structuring(c["c06"])
        wallets = self._sales(1, 8_000, 50_000, channels=("card", "wechat"))
        self._note(
            "card and wallet sales refunded in cash",
            "cash_for_electronic",
            "cashier",
            "c07",
            "c07",
            self.later_by(c["c07"], wallets, 4, "goods_quality", method="cash"),
        )
        self._quick(c["c11"])
        self._after_hours(c["c12"])
        self._burst(c["c13"])
        self._failing(c["c14"])
        self._ring()
        self._cycles(c["c16"])
        self._wrong(c["c17"])
        rate = self._sales(3, 3_000, 40_000)
        self._note(
            "new cashier refunding far more than peers",
            "refund_rate",
            "cashier",
            "c19",
            "c19",
            self.later_by(c["c19"], rate, 22, "goods_quality"),
        )
        self._honest_oddities()
        del p

    def _structuring(self, c: Cashier) -> None:
        keys: list[str] = []
        for sale in self.rng.sample(self._sales(1, 12_000, 40_000), 6):
            when = self._working_hour(c, self._day(sale) + 1)
            if when:
                keys.append(self.p.refund(sale, c, self.p.at(*when), self.rng.randint(920, 998) * 10, "goods_quality"))
        for sale in self.rng.sample(self._sales(1, 15_000, 19_000), 2):
            when = self._working_hour(c, self._day(sale) + 1)
            if when:
                half = sale["amount_fen"] // 2
                keys.append(self.p.refund(sale, c, self.p.at(*when), half, "goods_quality"))
                keys.append(
                    self.p.refund(
                        sale, c, self.p.at(when[0], when[1] + 0.4), sale["amount_fen"] - half, "goods_quality"
                    )
                )
        self._note("refunds kept under the auto-approval limit, and split", "near_limit", "cashier", c.key, c.key, keys)

    def _quick(self, c: Cashier) -> None:
        keys = [
            self.p.refund(
                s, c, s["paid_at"] + timedelta(minutes=self.rng.uniform(1.5, 5)), s["amount_fen"], "customer_cancelled"
            )
            for s in self.rng.sample(self._sales(2, 5_000, 50_000, cashier=c.key), 7)
        ]
        self._note("sales voided minutes later", "quick_refund", "cashier", c.key, c.key, keys)

    def _after_hours(self, c: Cashier) -> None:
        keys = []
        for s in self.rng.sample(self._sales(2, 5_000, 50_000), 4):
            day = min(self.p.days - 1, self._day(s) + 1)
            keys.append(
                self.p.refund(s, c, self.p.at(day, self.rng.uniform(22.5, 23.8)), s["amount_fen"], "goods_quality")
            )
        self._note("refunds after closing", "after_hours", "cashier", c.key, c.key, keys)

    def _burst(self, c: Cashier) -> None:
        day, hour = self._working_hour(c, self.p.days - 6) or (self.p.days - 1, 12.0)
        sales = [s for s in self._sales(2, 3_000, 30_000) if self._day(s) < day]
        keys = [
            self.p.refund(s, c, self.p.at(day, hour + i * 0.09), s["amount_fen"], "goods_quality")
            for i, s in enumerate(self.rng.sample(sales, 8))
        ]
        self._note("eight refunds in three quarters of an hour", "velocity", "cashier", c.key, c.key, keys)

    def _failing(self, c: Cashier) -> None:
        sales = self._sales(2, 3_000, 30_000)
        keys = self.later_by(c, sales, 5, "other", status="failed")
        self._note("refunds probed until they failed", "failing_terminal", "terminal", c.terminal, c.key, keys)

    def _ring(self) -> None:
        """One customer's phone and card refunded at every store (the cashiers are honest)."""
        keys = []
        ring = {"n": len(self.p.m.customers), "store": 0, "channel": "card", "payer": RING_CARD, "phone": RING_PHONE}
        self.p.m.customers.append(ring)
        for store in range(4):
            seller = self.by_key[f"c{store * 5 + 3:02d}"]
            when = self._working_hour(seller, 3 + store * 5)
            if not when:
                continue
            sale = self.p.sale(seller, self.p.at(*when), ring, self.rng.randint(30, 80) * 1_000)
            staff = self.p.on_duty(store, when[0] + 1, 14.0) or [seller]
            keys.append(
                self.p.refund(
                    sale, staff[0], self.p.at(when[0] + 1, 14.0), sale["amount_fen"], "goods_quality", phone=RING_PHONE
                )
            )
        self._note("one phone and card refunded in every store", "many_stores", "phone", RING_PHONE, None, keys)

    def _cycles(self, c: Cashier) -> None:
        card = {"n": len(self.p.m.customers), "store": c.store, "channel": "card", "payer": CYCLE_CARD, "phone": None}
        self.p.m.customers.append(card)
        keys = []
        for amount in (200_000, 300_000, 500_000):
            when = self._working_hour(c, self.rng.randint(2, self.p.days - 8))
            if when:
                sale = self.p.sale(c, self.p.at(*when), card, amount)
                keys.append(
                    self.p.refund(sale, c, self.p.at(when[0], min(21.5, when[1] + 3)), amount, "customer_cancelled")
                )
        self._note("round sales refunded in full (cash-out)", "round_cycles", "card", CYCLE_CARD, c.key, keys)

    def _wrong(self, c: Cashier) -> None:
        keys = []
        for s in self.rng.sample(self._sales(3, 5_000, 50_000, cashier=c.key), 5):
            at = s["paid_at"] + timedelta(minutes=self.rng.uniform(2, 10))
            keys.append(self.p.refund(s, c, at, s["amount_fen"] // 4, "wrong_amount"))
        self._note("charging wrong again and again", "repeat_wrong_charge", "cashier", c.key, c.key, keys)

    def _honest_oddities(self) -> None:
        """A card refunded in cash because the card was cancelled, and one refund minutes after closing."""
        c04, c09 = self.by_key["c04"], self.by_key["c09"]
        self.later_by(c04, self._sales(0, 5_000, 30_000, channels=("card",)), 1, "goods_quality", method="cash")
        sale = self.rng.choice(self._sales(1, 3_000, 30_000))
        self.p.refund(
            sale, c09, self.p.at(min(self.p.days - 1, self._day(sale) + 1), 22.08), sale["amount_fen"], "goods_quality"
        )


def plan_month(end: Any, seed: int = 2026, days: int = 30, sales_per_shift: int = 25) -> Month:
    planner = Planner(end, seed, days, sales_per_shift)
    month = planner.month()
    Schemes(planner).plant()
    return month
