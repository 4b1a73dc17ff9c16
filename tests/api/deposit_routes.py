"""The deposit routes for the role × route matrix: each builder returns the request as keyword arguments of
``Call``; ids in paths belong to merchant A, each call with objects of its own."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from posrefund.service.deposits import holding, proposals, terms
from posrefund.service.deps import Deps
from tests.conftest import World
from tests.support.helpers import sale_body, sale_input

P = "/v1/deposits"
_n = itertools.count(1)


def a_terms(d: Deps, w: World, kind: str = "deposit") -> str:
    made = terms.create_terms(d, w.a.actors["supervisor"], name=f"条款 {next(_n)}", kind=kind, hold_days=30)
    return made["id"]


def a_deposit(d: Deps, w: World) -> str:
    """A 3,000-yuan 定金 on a 10,000-yuan contract."""
    sale = sale_input(w.a, d.clock.now(), amount_fen=300_000)
    _, row = holding.record_deposit_sale(
        d, w.a.actors["cashier"], sale, terms_id=a_terms(d, w), contract_value_fen=1_000_000
    )
    return row["id"]


def a_proposal(d: Deps, w: World) -> tuple[str, str]:
    """The merchant broke the deal: a double return waits for a decision."""
    deposit_id = a_deposit(d, w)
    return deposit_id, proposals.propose(d, w.a.actors["cashier"], deposit_id, ending="merchant_breach")["id"]


def a_payout(d: Deps, w: World) -> str:
    """A penalty transfer accepted by the second supervisor: anyone else allowed may confirm it paid."""
    deposit_id, proposal_id = a_proposal(d, w)
    payout = proposals.accept(d, w.a.actors["supervisor2"], deposit_id, proposal_id)["payout"]
    return str(payout["id"])


def _step(step: str, body: Any = None) -> Callable[[Deps, World, str], dict[str, Any]]:
    def build(d: Deps, w: World, r: str) -> dict[str, Any]:
        deposit_id, proposal_id = a_proposal(d, w)
        return {"method": "POST", "path": f"{P}/{deposit_id}/proposals/{proposal_id}/{step}", "json": body}

    return build


DEPOSIT_ROUTES: dict[tuple[str, str], tuple[str, Callable[[Deps, World, str], dict[str, Any]]]] = {
    ("POST", f"{P}/terms"): (
        "deposit.terms",
        lambda d, w, r: {
            "method": "POST",
            "path": f"{P}/terms",
            "json": {"name": f"条款 {next(_n)}", "kind": "advance", "hold_days": 7},
        },
    ),
    ("GET", f"{P}/terms"): ("deposit.read", lambda d, w, r: {"method": "GET", "path": f"{P}/terms"}),
    ("POST", P): (
        "deposit.record",
        lambda d, w, r: {
            "method": "POST",
            "path": P,
            "json": {
                "terms_id": a_terms(d, w),
                "contract_value_fen": 1_000_000,
                "sale": sale_body(w.a, d.clock.now(), amount_fen=200_000),
            },
        },
    ),
    ("GET", P): ("deposit.read", lambda d, w, r: {"method": "GET", "path": P}),
    ("GET", f"{P}/overdue"): ("deposit.overdue", lambda d, w, r: {"method": "GET", "path": f"{P}/overdue"}),
    ("GET", f"{P}/{{deposit_id}}"): (
        "deposit.read",
        lambda d, w, r: {"method": "GET", "path": f"{P}/{a_deposit(d, w)}"},
    ),
    ("POST", f"{P}/{{deposit_id}}/proposals"): (
        "deposit.propose",
        lambda d, w, r: {"method": "POST", "path": f"{P}/{a_deposit(d, w)}/proposals", "json": {"ending": "mutual"}},
    ),
    ("POST", f"{P}/{{deposit_id}}/proposals/{{proposal_id}}/override"): (
        "deposit.decide",
        _step("override", {"back_total_fen": 300_000, "penalty_total_fen": 100_000, "reason": "协商减半罚金"}),
    ),
    ("POST", f"{P}/{{deposit_id}}/proposals/{{proposal_id}}/accept"): ("deposit.decide", _step("accept")),
    ("POST", f"{P}/payouts/{{payout_id}}/confirm"): (
        "deposit.confirm_payout",
        lambda d, w, r: {
            "method": "POST",
            "path": f"{P}/payouts/{a_payout(d, w)}/confirm",
            "json": {"reference": "TRF1"},
        },
    ),
    ("POST", f"{P}/payouts/{{payout_id}}/cancel"): (
        "deposit.decide",
        lambda d, w, r: {
            "method": "POST",
            "path": f"{P}/payouts/{a_payout(d, w)}/cancel",
            "json": {"reason": "误选商户违约"},
        },
    ),
}
DEPOSIT_ANSWERS: dict[tuple[str, str], tuple[int, str | None]] = {
    ("POST", f"{P}/terms"): (201, None),
    ("POST", P): (201, None),
    ("POST", f"{P}/{{deposit_id}}/proposals"): (201, None),
    ("POST", f"{P}/{{deposit_id}}/proposals/{{proposal_id}}/accept"): (201, None),
}
