"""A realistic month of one merchant's counters for trying the risk rules: 20 cashiers over four stores for 30
days — shifts, busy weekends, returns after a holiday, honest mistakes, a rare honest cash refund or late
refund — and a few planted schemes, one for each rule, listed in an answer key. Pure and deterministic: it
makes rows with keys ("c07", "s2", "t2b"); ``risk_load`` writes them and turns the keys into ids."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

SHANGHAI = timedelta(hours=8)
STORES = 4
PER_STORE = 5
OPEN_H, CLOSE_H, TURN_H = 9, 22, 15.5
BINS = ["622202", "621700", "622848", "436742", "622588", "625807", "622908", "621226", "622700", "623668"]
CHANNELS = [("card", 40), ("wechat", 30), ("alipay", 20), ("cash", 10)]
METHOD = {"card": "refund", "wechat": "refund", "alipay": "refund", "cash": "cash"}
HONEST_REASONS = ["goods_quality", "customer_cancelled", "service_issue", "goods_quality", "customer_cancelled"]


@dataclass
class Cashier:
    key: str
    store: int
    terminal: str
    joined_days_ago: int
    evening_first: bool


@dataclass
class Month:
    start: datetime
    end: datetime
    cashiers: list[Cashier]
    sales: list[dict[str, Any]] = field(default_factory=list)
    refunds: list[dict[str, Any]] = field(default_factory=list)
    schemes: list[dict[str, Any]] = field(default_factory=list)
    customers: list[dict[str, Any]] = field(default_factory=list)


class Planner:
    """Builds the month day by day; schemes are added afterwards, each on its own cashier or customer."""

    def __init__(self, end: datetime, seed: int, days: int, sales_per_shift: int) -> None:
        self.rng = random.Random(seed)  # noqa: S311 - demo data, not secrets
        local_end = (end + SHANGHAI).replace(hour=0, minute=0, second=0, microsecond=0)
        self.m = Month(start=local_end - SHANGHAI - timedelta(days=days), end=local_end - SHANGHAI, cashiers=[])
        self.days = days
        self.per_shift = sales_per_shift
        self.holiday = days - 11  # a public holiday; returns come in the days after it
        self.n_sale = 0
        self.n_refund = 0
        self.home: dict[int, list[dict[str, Any]]] = {}

    # ---- people, customers, shifts ----
    def people(self) -> None:
        for i in range(STORES * PER_STORE):
            store = i // PER_STORE
            joined = self.rng.randint(200, 900)
            self.m.cashiers.append(Cashier(f"c{i + 1:02d}", store, f"t{store}{'ab'[i % 2]}", joined, i % 2 == 1))
        self.m.cashiers[18].joined_days_ago = 12  # the new cashier of store 3 (a scheme)
        self.m.cashiers[17].joined_days_ago = 9  # an honest new cashier of store 3
        for n in range(3_000):
            channel = self._weighted(CHANNELS)
            last4 = f"{self.rng.randrange(10_000):04d}"
            payer = {
                "card": f"{self.rng.choice(BINS)}******{last4}",
                "wechat": f"o{self.rng.choice('abcdefghjk')}{self.rng.choice('mnpqrstuvw')}***{last4}",
                "alipay": f"1{self.rng.choice('3589')}{self.rng.randrange(10)}*****{last4}",
                "cash": "",
            }[channel]
            phone = f"1{self.rng.choice('3589')}{self.rng.randrange(10**9):09d}" if self.rng.random() < 0.6 else None
            self.m.customers.append({"n": n, "store": n % STORES, "channel": channel, "payer": payer, "phone": phone})
        self.home = {s: [x for x in self.m.customers if x["store"] == s] for s in range(STORES)}

    def _weighted(self, pairs: list[tuple[str, int]]) -> str:
        return self.rng.choices([p for p, _ in pairs], [w for _, w in pairs])[0]

    def at(self, day: int, hour: float) -> datetime:
        """Day ``day`` of the month at local hour ``hour`` (fractional), as an aware UTC time."""
        return self.m.start + timedelta(days=day, hours=hour)

    def shift(self, c: Cashier, day: int) -> tuple[float, float] | None:
        """The hours ``c`` works on ``day`` (local), or None on a day off or before joining."""
        if day < self.days - c.joined_days_ago:
            return None
        if random.Random(f"{c.key}-{day}").random() < 0.27:  # noqa: S311 - about two days off a week
            return None
        evening = c.evening_first != ((day // 7) % 2 == 1)
        return (TURN_H, CLOSE_H) if evening else (OPEN_H, TURN_H)

    def on_duty(self, store: int, day: int, hour: float) -> list[Cashier]:
        out = []
        for c in self.m.cashiers:
            hours = self.shift(c, day) if c.store == store else None
            if hours and hours[0] <= hour < hours[1]:
                out.append(c)
        return out

    # ---- sales and honest refunds ----
    def sale(self, c: Cashier, paid_at: datetime, customer: dict[str, Any], amount: int) -> dict[str, Any]:
        self.n_sale += 1
        row = {
            "key": f"s{self.n_sale:06d}",
            "cashier": c.key,
            "store": c.store,
            "terminal": c.terminal,
            "channel": customer["channel"],
            "payer": customer["payer"],
            "amount_fen": amount,
            "paid_at": paid_at,
            "customer": customer["n"],
        }
        self.m.sales.append(row)
        return row

    def refund(self, sale: dict[str, Any], by: Cashier, at: datetime, amount: int, reason: str, **kw: Any) -> str:
        self.n_refund += 1
        customer = self.m.customers[sale["customer"]]
        row = {
            "key": f"r{self.n_refund:06d}",
            "sale": sale["key"],
            "cashier": by.key,
            "store": sale["store"],
            "terminal": by.terminal if by.store == sale["store"] else sale["terminal"],
            "amount_fen": amount,
            "reason": reason,
            "created_at": at,
            "status": "succeeded",
            "method": METHOD[sale["channel"]],
            "payee": "",
            "phone": customer["phone"] if self.rng.random() < 0.8 else None,
            **kw,
        }
        self.m.refunds.append(row)
        return str(row["key"])

    def amount(self) -> int:
        """A basket: most between ¥20 and ¥300, a long tail above; whole jiao."""
        yuan = math.exp(self.rng.gauss(math.log(68), 0.85))
        return max(200, int(yuan * 10) * 10)

    def day_of_sales(self, day: int) -> None:
        weekday = (self.m.start + SHANGHAI + timedelta(days=day)).weekday()
        busy = 1.4 if weekday >= 5 else 1.0
        busy *= 1.8 if self.holiday <= day < self.holiday + 2 else 1.0
        for c in self.m.cashiers:
            hours = self.shift(c, day)
            if hours is None:
                continue
            for _ in range(max(0, int(self.rng.gauss(self.per_shift * busy, 4)))):
                hour = self.rng.uniform(*hours)
                customer = self.rng.choice(self.home[c.store] if self.rng.random() < 0.85 else self.m.customers)
                sale = self.sale(c, self.at(day, hour), customer, self.amount())
                self.maybe_return(sale, day, hour)

    def maybe_return(self, sale: dict[str, Any], day: int, hour: float) -> None:
        """About 2.5 % of sales come back (far more of the holiday's, in the days after it)."""
        rate = 0.06 if self.holiday <= day < self.holiday + 2 else 0.025
        if self.rng.random() >= rate:
            return
        seller = next(c for c in self.m.cashiers if c.key == sale["cashier"])
        if self.rng.random() < 0.04:  # changed their mind at the counter
            at = hour + self.rng.uniform(2, 9) / 60
            self.refund(sale, seller, self.at(day, at), sale["amount_fen"], "customer_cancelled")
            return
        later = day + (0 if self.rng.random() < 0.2 else self.rng.randint(1, 9))
        at_hour = self.rng.uniform(OPEN_H + 0.2, CLOSE_H - 0.2) if later > day else min(CLOSE_H - 0.1, hour + 2)
        staff = self.on_duty(sale["store"], later, at_hour)
        if later >= self.days or not staff:
            return
        part = (
            sale["amount_fen"] if self.rng.random() < 0.7 else sale["amount_fen"] * self.rng.randint(3, 9) // 1000 * 100
        )
        failed = self.rng.random() < 0.012
        self.refund(
            sale,
            self.rng.choice(staff),
            self.at(later, at_hour),
            max(100, part),
            self.rng.choice(HONEST_REASONS),
            status="failed" if failed else "succeeded",
        )

    def honest_mistakes(self) -> None:
        """A few wrong charges per cashier (at most two), put right by the same cashier within minutes."""
        refunded = {r["sale"] for r in self.m.refunds}
        for c in self.m.cashiers:
            for _ in range(min(2, int(self.rng.expovariate(1.3)))):
                mine = [s for s in self.m.sales if s["cashier"] == c.key and s["key"] not in refunded]
                if not mine:
                    continue
                sale = self.rng.choice(mine)
                at = sale["paid_at"] + timedelta(minutes=self.rng.uniform(1, 12))
                diff = max(100, sale["amount_fen"] // 10 // 100 * 100)
                self.refund(sale, c, at, min(diff, sale["amount_fen"]), "wrong_amount")

    def month(self) -> Month:
        self.people()
        for day in range(self.days):
            self.day_of_sales(day)
        self.honest_mistakes()
        return self.m
