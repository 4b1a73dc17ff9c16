"""The printable documents' routes for the role × route matrix: each builder returns the request as keyword
arguments of ``Call``; ids in paths belong to merchant A. Each call that changes an application gets one of
its own (a card refund, its application prepared — and submitted, for the outcome)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from posrefund.service import refunds
from posrefund.service.deps import Deps
from posrefund.service.documents import bank_applications as bank
from posrefund.service.refunds import RefundRequest
from tests.conftest import World
from tests.support.helpers import new_sale

B = "/v1/refunds/{refund_id}/bank-application"
S = "/v1/reports/summary"


def card_case(d: Deps, w: World) -> str:
    sale = new_sale(d, w.a, channel="card", amount_fen=6_000, payer_masked="622202******1234")
    return refunds.request_refund(d, w.a.actors["cashier"], RefundRequest(sale.id, 6_000, "wrong_amount")).id


def application(d: Deps, w: World, submitted: bool = False) -> tuple[str, str]:
    case_id = card_case(d, w)
    app = bank.prepare(d, w.a.actors["finance"], case_id, bank.Preparation("too_old"))
    if submitted:
        sub = bank.Submission(d.local_date(d.clock.now()), "counter", "中国银行")
        bank.submit(d, w.a.actors["finance"], case_id, app["id"], sub, lambda _day: True)
    return case_id, app["id"]


def _on_app(
    suffix: str, method: str = "GET", body: Any = None, submitted: bool = False
) -> Callable[..., dict[str, Any]]:
    def build(d: Deps, w: World, _r: str) -> dict[str, Any]:
        case_id, app_id = application(d, w, submitted)
        return {"method": method, "path": f"/v1/refunds/{case_id}/bank-application/{app_id}{suffix}", "json": body}

    return build


TODAY = "2026-11-20"
DOCUMENT_ROUTES: dict[tuple[str, str], tuple[str, Callable[[Deps, World, str], dict[str, Any]]]] = {
    ("POST", B): (
        "bank_application.manage",
        lambda d, w, r: {"method": "POST", "path": B.format(refund_id=card_case(d, w)), "json": {"reason": "too_old"}},
    ),
    ("GET", B): (
        "bank_application.read",
        lambda d, w, r: {"method": "GET", "path": B.format(refund_id=application(d, w)[0])},
    ),
    ("GET", B + "/{application_id}"): ("bank_application.read", _on_app("")),
    ("GET", B + "/{application_id}/form.pdf"): ("bank_application.read", _on_app("/form.pdf")),
    ("POST", B + "/{application_id}/submit"): (
        "bank_application.manage",
        _on_app("/submit", "POST", {"submitted_on": TODAY, "channel": "mail", "bank": "工商银行"}),
    ),
    ("POST", B + "/{application_id}/outcome"): (
        "bank_application.manage",
        _on_app("/outcome", "POST", {"outcome": "accepted", "outcome_on": TODAY}, submitted=True),
    ),
    ("GET", S): ("report.read", lambda d, w, r: {"method": "GET", "path": f"{S}?period=2026-11"}),
    ("GET", S + ".pdf"): ("report.read", lambda d, w, r: {"method": "GET", "path": f"{S}.pdf?period=2026-11"}),
    ("GET", S + "/subscriptions"): (
        "summary.subscribe",
        lambda d, w, r: {"method": "GET", "path": f"{S}/subscriptions"},
    ),
    ("PUT", S + "/subscriptions"): (
        "summary.subscribe",
        lambda d, w, r: {
            "method": "PUT",
            "path": f"{S}/subscriptions",
            "json": {"cadence": "monthly", "email": f"{r}@shop.example"},
        },
    ),
    ("DELETE", S + "/subscriptions"): (
        "summary.subscribe",
        lambda d, w, r: {"method": "DELETE", "path": f"{S}/subscriptions?cadence=weekly"},
    ),
}
# Nobody subscribed to the weekly summary, so there is nothing to end.
DOCUMENT_ANSWERS: dict[tuple[str, str], tuple[int, str | None]] = {
    ("POST", B): (201, None),
    ("DELETE", S + "/subscriptions"): (404, "summary.subscription_not_found"),
}
