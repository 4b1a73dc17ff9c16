"""Writing the demo month (risk_month, risk_schemes) for one new merchant: stores, terminals and staff through the
service (audited, as an administrator would), the month's sales and refunds in bulk (a month of history is
imported, not rung up again), then the answer key with the real ids."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, update

from posrefund.adapters.db import tables
from posrefund.bootstrap import engine_of
from posrefund.demo.risk_month import SHANGHAI, STORES, Month
from posrefund.demo.seed import DEMO_PASSWORD, DEMO_POLICY
from posrefund.domain.pii import card_last4, mask_phone
from posrefund.domain.roles import ANY_PROVIDER, Actor, Role
from posrefund.ports import CustomerRecord
from posrefund.service import admin, policies
from posrefund.service.deps import Deps
from posrefund.service.refunds import CustomerInput, protect_customer

HOLDS = {"failed"}  # a failed refund keeps its amount reserved on the sale (it may be retried)


class Loader:
    def __init__(self, deps: Deps, code: str) -> None:
        self.deps = deps
        self.code = code
        self.prefix = code.lower()
        provider = Actor(
            id="demo-risk", role=Role.PROVIDER_ADMIN, merchant_id=None, name="demo", provider_id=ANY_PROVIDER
        )
        self.provider = provider
        m = admin.create_merchant(deps, provider, code=code, name=f"风险演示商户 {code}")
        self.mid = m["id"]
        self.boss = Actor(id="demo-risk", role=Role.ADMIN, merchant_id=self.mid, name="demo")
        policies.put_policy(deps, self.boss, DEMO_POLICY)
        self.ids: dict[str, str] = {}
        self.phones: dict[str, CustomerRecord] = {}

    def places(self, month: Month) -> None:
        for s in range(max((c.store for c in month.cashiers), default=STORES - 1) + 1):
            store = admin.create_store(self.deps, self.boss, name=f"{s + 1} 号店")
            self.ids[f"s{s}"] = store["id"]
            for t in "ab":
                term = admin.create_terminal(
                    self.deps, self.boss, store_id=store["id"], terminal_no=f"{self.code}{s}{t}", device_sn=f"SN{s}{t}"
                )
                self.ids[f"t{s}{t}"] = term["id"]

    def staff(self, month: Month) -> list[dict[str, str]]:
        made = []
        people = [(c.key, "cashier", c.joined_days_ago) for c in month.cashiers]
        people += [("risk", "risk", 400), ("admin", "admin", 900), ("supervisor", "supervisor", 700)]
        engine = engine_of(self.deps)
        for key, role, days in people:
            username = f"{self.prefix}_{key}"
            u = admin.create_user(
                self.deps, self.provider, username=username, password=DEMO_PASSWORD, role=role, merchant_id=self.mid
            )
            self.ids[key] = u["id"]
            made.append({"username": username, "role": role, "id": u["id"]})
            with engine.begin() as conn:  # a month of history needs staff who joined before it
                joined = month.end - timedelta(days=days)
                conn.execute(update(tables.users).where(tables.users.c.id == u["id"]).values(created_at=joined))
        return made

    def _phone(self, phone: str | None) -> CustomerRecord:
        if not phone:
            return CustomerRecord()
        if phone not in self.phones:
            self.phones[phone] = protect_customer(self.deps, CustomerInput(phone=phone))
        return self.phones[phone]

    def ledger(self, month: Month) -> set[str]:
        """Insert the sales and refunds; a refund that would take a sale beyond its amount is left out."""
        sums: dict[str, list[int]] = {s["key"]: [0, 0, 0] for s in month.sales}  # refunded, reserved, count
        amount = {s["key"]: s["amount_fen"] for s in month.sales}
        kept = []
        for r in sorted(month.refunds, key=lambda r: r["created_at"]):
            acc = sums[r["sale"]]
            if acc[0] + acc[1] + r["amount_fen"] > amount[r["sale"]]:
                continue
            acc[1 if r["status"] in HOLDS else 0] += r["amount_fen"]
            acc[2] += 1
            kept.append(r)
        with engine_of(self.deps).begin() as conn:
            conn.execute(insert(tables.sales), [self._sale(s, sums[s["key"]], n) for n, s in enumerate(month.sales)])
            conn.execute(insert(tables.refunds), [self._refund(r, n) for n, r in enumerate(kept)])
        return {r["key"] for r in kept}

    def _sale(self, s: dict[str, Any], acc: list[int], n: int) -> dict[str, Any]:
        return {
            "id": f"{self.prefix}-{s['key']}",
            "merchant_id": self.mid,
            "store_id": self.ids[f"s{s['store']}"],
            "terminal_id": self.ids[s["terminal"]],
            "voucher_no": f"{n % 1_000_000:06d}",
            "rrn": f"{n:012d}",
            "batch_no": f"{n // 1_000_000 + 1:06d}",
            "auth_code": "",
            "order_no": f"RK{self.code}{n:08d}",
            "channel": s["channel"],
            "kind": "sale",
            "amount_fen": s["amount_fen"],
            "fee_fen": 0,
            "currency": "CNY",
            "paid_at": s["paid_at"],
            "paid_date": (s["paid_at"] + SHANGHAI).date(),
            "settlement_status": "settled",
            "payer_masked": s["payer"],
            "card_last4": card_last4(s["payer"]),
            "refunded_fen": acc[0],
            "reserved_fen": acc[1],
            "refund_count": acc[2],
            "created_at": s["paid_at"],
            "sold_by": self.ids[s["cashier"]],
        }

    def _refund(self, r: dict[str, Any], n: int) -> dict[str, Any]:
        phone = self._phone(r["phone"])
        return {
            "id": f"{self.prefix}-{r['key']}",
            "merchant_id": self.mid,
            "store_id": self.ids[f"s{r['store']}"],
            "terminal_id": self.ids[r["terminal"]],
            "sale_id": f"{self.prefix}-{r['sale']}",
            "refund_no": f"RK{self.code}R{n:08d}",
            "amount_fen": r["amount_fen"],
            "currency": "CNY",
            "reason": r["reason"],
            "note": "",
            "status": r["status"],
            "channel": "cash" if r["method"] == "cash" else "",
            "requested_by": self.ids[r["cashier"]],
            "requested_role": "cashier",
            "required_approvals": 1,
            "approved_by": "[]",
            "review_reason": "",
            "evidence_ids": "[]",
            "customer_phone_enc": phone.phone_enc,
            "customer_phone_index": phone.phone_index,
            "customer_phone_masked": phone.phone_masked,
            "customer_name_masked": "",
            "customer_id_no_masked": "",
            "version": 1,
            "created_at": r["created_at"],
            "updated_at": r["created_at"],
            "method": r["method"],
            "attempts": 1,
            "submitted": True,
            "last_code": "REFUND_DECLINED" if r["status"] == "failed" else "",
            "sent_at": r["created_at"],
            "succeeded_at": r["created_at"] if r["status"] == "succeeded" else None,
            "payee_masked": r["payee"],
        }

    def _subject(self, kind: str, subject: str) -> str:
        """A scheme's subject as an alert names it: an id, a masked card, a masked phone (never one in clear)."""
        if kind in ("cashier", "terminal"):
            return self.ids[subject]
        return mask_phone(subject) if kind == "phone" else subject

    def answer_key(self, month: Month, kept: set[str], users: list[dict[str, str]]) -> dict[str, Any]:
        schemers = {s["cashier"] for s in month.schemes if s["cashier"]}
        return {
            "merchant_id": self.mid,
            "merchant_code": self.code,
            "start": month.start.isoformat(),
            "end": month.end.isoformat(),
            "sales": len(month.sales),
            "refunds": len(kept),
            "honest_cashiers": sorted(self.ids[c.key] for c in month.cashiers if c.key not in schemers),
            "schemes": [
                {
                    **{k: v for k, v in s.items() if k not in ("refunds", "subject")},
                    "subject": self._subject(s["subject_kind"], s["subject"]),
                    "cashier": self.ids[s["cashier"]] if s["cashier"] else None,
                    "refunds": [f"{self.prefix}-{k}" for k in s["refunds"] if k in kept],
                }
                for s in month.schemes
            ],
            "users": users,
            "password": DEMO_PASSWORD,
        }


def load_month(deps: Deps, month: Month, code: str, answer_path: Path | None = None) -> dict[str, Any]:
    """Write ``month`` as merchant ``code`` and return (and write, when given a path) its answer key."""
    loader = Loader(deps, code)
    loader.places(month)
    users = loader.staff(month)
    kept = loader.ledger(month)
    key = loader.answer_key(month, kept, users)
    if answer_path is not None:
        answer_path.write_text(json.dumps(key, ensure_ascii=False, indent=2), encoding="utf-8")
    return key
