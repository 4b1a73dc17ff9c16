"""The demo merchant: enough realistic data to try every screen and call (deterministic, seed 2026)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from rich.console import Console
from rich.progress import Progress

from posrefund.domain.errors import DomainError
from posrefund.domain.roles import Actor, Role
from posrefund.ports import TerminalRow
from posrefund.service import admin, policies, refunds, sales
from posrefund.service.deps import Deps
from posrefund.service.refunds import CustomerInput, RefundRequest
from posrefund.service.sales import SaleInput

DEMO_PASSWORD = "demo-pass-2026"  # noqa: S105 - published on purpose: it is the demo's
ROLES = ["admin", "supervisor", "cashier", "customer_service", "finance", "risk", "auditor"]
ROLE_NAMES = {  # the name the console's header shows for each demo operator
    "admin": "管理员",
    "supervisor": "主管",
    "cashier": "收银员",
    "customer_service": "客服",
    "finance": "财务",
    "risk": "风控",
    "auditor": "审计",
}
DEMO_POLICY: dict[str, Any] = {
    "refund_window_days": 30,
    "evidence_required": {"goods_quality": ["receipt"]},
    "auto_approve_limit_fen": 10_000,
    "supervisor_limit_fen": 500_000,
    "two_person_limit_fen": 1_000_000,
    "max_partial_refunds": 50,
    "channel_window_days": {"wechat": 365, "alipay": 365, "unionpay_qr": 365},
}
CHANNELS = [("card", 40), ("wechat", 30), ("alipay", 20), ("unionpay_qr", 5), ("cash", 4), ("cheque", 1)]


def fee_for(channel: str, amount_fen: int) -> int:
    """Field rates of DOMAIN.md: card 0.6 %; QR 0.38 % small, 0.55 % from 1,000 yuan; cash/cheque free."""
    if channel == "card":
        return amount_fen * 60 // 10_000
    if channel in ("wechat", "alipay", "unionpay_qr"):
        return amount_fen * (55 if amount_fen >= 100_000 else 38) // 10_000
    return 0


def _payer(rng: random.Random, channel: str) -> str:
    last4 = f"{rng.randrange(10_000):04d}"
    if channel == "card":
        return f"{rng.choice(['622202', '621700', '622848', '436742'])}******{last4}"
    if channel == "wechat":
        return f"o{rng.choice('abcdefgh')}***{last4[-2:]}"
    if channel == "alipay":
        return f"1{rng.choice('3589')}*******{last4[-2:]}"
    if channel == "unionpay_qr":
        return f"6228********{last4}"
    return ""


def seed(deps: Deps, progress_console: Console | None = None, sales_count: int = 300) -> dict[str, Any]:
    """The demo merchant with an operator of every role, two stores of two terminals, the demo policy,
    ``sales_count`` sales of the last four weeks and refunds in every state."""
    rng = random.Random(2026)  # noqa: S311 - demo data, not secrets
    provider = Actor(id="demo", role=Role.PROVIDER_ADMIN, merchant_id=None, name="demo seed")
    m = admin.create_merchant(deps, provider, code="DEMO", name="演示便利店 Demo Mart", contact_phone="400-800-1234")
    mid = m["id"]
    seeder = Actor(id="demo", role=Role.ADMIN, merchant_id=mid, name="demo seed")
    users = _operators(deps, provider, mid)
    policies.put_policy(deps, seeder, DEMO_POLICY)
    terminals = _terminals(deps, seeder)
    key = admin.create_api_key(deps, seeder, terminal_id=terminals[0]["id"])
    made = _sales(deps, seeder, rng, terminals, sales_count, progress_console)
    cashier = Actor(id=users[2]["id"], role=Role.CASHIER, merchant_id=mid, name="演示收银员")
    supervisor = Actor(id=users[1]["id"], role=Role.SUPERVISOR, merchant_id=mid, name="演示主管")
    refunded = _refunds(deps, cashier, supervisor, made[:40])
    return {
        "merchant_id": mid,
        "users": users,
        "password": DEMO_PASSWORD,
        "sales": len(made),
        "refunds": refunded,
        "terminal_key": key["key"],
        "terminals": [t["id"] for t in terminals],
    }


def demo_accounts() -> list[tuple[str, str, str]]:
    """(username, role, display name) of the demo merchant's operators: one of every merchant role, and two
    supervisors for the two-person approval. Their password is ``DEMO_PASSWORD``."""
    return [(f"demo_{role}", role, f"演示{ROLE_NAMES[role]}") for role in ROLES] + [
        ("demo_supervisor2", "supervisor", "演示主管二")
    ]


def _operators(deps: Deps, provider: Actor, mid: str) -> list[dict[str, str]]:
    """A demo user of every merchant role (two supervisors, for the two-person approval), and a provider admin."""
    users = []
    for username, role, display_name in demo_accounts():
        u = admin.create_user(
            deps,
            provider,
            username=username,
            password=DEMO_PASSWORD,
            role=role,
            display_name=display_name,
            merchant_id=mid,
        )
        users.append({"username": u["username"], "role": role, "id": u["id"]})
    admin.create_user(deps, provider, username="demo_provider", password=DEMO_PASSWORD, role="provider_admin")
    users.append({"username": "demo_provider", "role": "provider_admin", "id": ""})
    return users


def _terminals(deps: Deps, seeder: Actor) -> list[TerminalRow]:
    terminals = []
    for s_no, store_name in enumerate(["人民广场店", "徐家汇店"], start=1):
        store = admin.create_store(deps, seeder, name=store_name, address=f"上海市 {store_name}")
        for t_no in range(1, 3):
            terminals.append(
                admin.create_terminal(
                    deps,
                    seeder,
                    store_id=store["id"],
                    terminal_no=f"T{s_no}{t_no:03d}",
                    device_sn=f"SN-DEMO-{s_no}{t_no}",
                )
            )
    return terminals


def _sales(
    deps: Deps,
    seeder: Actor,
    rng: random.Random,
    terminals: list[TerminalRow],
    count: int,
    progress_console: Console | None,
) -> list[Any]:
    """Sales spread over the last 28 days, on every channel in realistic shares, round-robin on the terminals."""
    now = deps.clock.now()
    made: list[Any] = []
    with Progress(console=progress_console, disable=progress_console is None) as progress:
        task = progress.add_task("演示消费记录 demo sales", total=count)
        for i in range(count):
            made.append(sales.record_sale(deps, seeder, _sale_input(rng, i, terminals[i % len(terminals)], now)))
            progress.advance(task)
    return made


def _sale_input(rng: random.Random, i: int, term: TerminalRow, now: datetime) -> SaleInput:
    channel = rng.choices([c for c, _ in CHANNELS], [w for _, w in CHANNELS])[0]
    age = timedelta(days=rng.uniform(0, 28), minutes=rng.randrange(60 * 12))
    paid_at = (now - age).astimezone(UTC)
    amount = rng.choice([rng.randrange(500, 10_000), rng.randrange(10_000, 200_000), rng.randrange(200_000, 1_500_000)])
    return SaleInput(
        terminal_id=term["id"],
        voucher_no=f"{i + 1:06d}",
        rrn=f"{rng.randrange(10**12):012d}",
        batch_no=f"{(now - paid_at).days:06d}",
        auth_code=f"{rng.randrange(10**6):06d}",
        order_no=f"DM{paid_at:%Y%m%d}{i + 1:05d}",
        channel=channel,
        kind="deposit" if i % 37 == 0 else "sale",
        amount_fen=amount,
        fee_fen=fee_for(channel, amount),
        currency="CNY",
        paid_at=paid_at,
        payer_masked=_payer(rng, channel),
        settlement_status="settled" if age > timedelta(days=1) else "unsettled",
    )


def _refunds(deps: Deps, cashier: Actor, supervisor: Actor, sold: list[Any]) -> int:
    """Refunds of the first sales, in every state: pending, approved, rejected, cancelled; half amounts too."""
    count = 0
    reasons = ["customer_cancelled", "wrong_amount", "duplicate_charge", "service_issue", "transaction_error"]
    for i, sale in enumerate(sold):
        amount = sale.amount_fen if i % 3 else max(sale.amount_fen // 2, 1)
        try:
            case = refunds.request_refund(
                deps,
                cashier,
                RefundRequest(
                    sale_id=sale.id,
                    amount_fen=amount,
                    reason=reasons[i % len(reasons)],
                    note="演示退款",
                    customer=CustomerInput(phone=f"1380013{i:04d}", name="顾客"),
                ),
            )
            if case.status.value == "pending_review" and i % 4 == 1:
                refunds.approve(deps, supervisor, case.id, "核实无误")
            elif case.status.value == "pending_review" and i % 4 == 2:
                refunds.reject(deps, supervisor, case.id, "商品已使用，不符合退款政策")
            elif i % 11 == 0:
                refunds.cancel(deps, cashier, case.id, "顾客撤回")
            count += 1
        except DomainError:
            continue  # e.g. a sale outside the window: the demo shows only what the policy allows
    return count
