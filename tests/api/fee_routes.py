"""The fee routes for the role × route matrix: each builder returns the request as keyword arguments of ``Call``;
ids in paths belong to merchant A. Every call makes what it needs itself (a later period, a case opened and
approved by someone else), so each allowed role meets the same answer."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from itertools import count
from typing import Any

from posrefund.domain.fee_charges import ChargeTerms, OneOffCharge, PayoutCase, PayoutStatus
from posrefund.domain.fees import FeePeriod, FeeRule
from posrefund.domain.roles import Actor, Role
from posrefund.service import fees
from posrefund.service.deps import Deps
from tests.conftest import World

_days = count(1)
RULES = (FeeRule("card", "credit", 6_000),)


def _day() -> date:
    return date(2026, 1, 1) + timedelta(days=next(_days))


def _someone(w: World, who: str) -> Actor:
    return Actor(who, Role.FINANCE, w.a.id, who)


def a_period(d: Deps, w: World) -> str:
    return fees.add_period(d, _someone(w, "setup"), w.a.id, FeePeriod(_day(), RULES)).id


def a_case(d: Deps, w: World, approved: bool = False) -> str:
    """An open (or approved) payout nobody in the matrix opened or approved."""
    case = PayoutCase(d.ids.new_id("fr"), w.a.id, "charge", PayoutStatus.OPEN, 100, "opener", datetime.now(UTC), "测试")
    with d.uow() as uow:
        uow.fee_contracts.add_payout(case, [])
        uow.commit()
    if approved:
        fees.approve(d, _someone(w, "approver"), w.a.id, case.id)
    return case.id


def a_charge(d: Deps, w: World) -> str:
    charge = OneOffCharge("", w.a.id, "service", 5_000, date(2026, 11, 1), date(2026, 11, 1), ChargeTerms("none"))
    return fees.record_charge(d, Actor("setup", Role.ADMIN, w.a.id), charge).id


def _fresh_period(d: Deps, w: World) -> dict[str, Any]:
    body = {"effective_from": _day().isoformat(), "rules": [{"channel": "card", "rate_ppm": 6000}]}
    return {"method": "POST", "path": f"/v1/fees/{w.a.id}/periods", "json": body}


def _check(d: Deps, w: World) -> dict[str, Any]:
    a_period(d, w)
    body = {"date_from": "2026-11-01", "date_to": "2026-11-30"}
    return {"method": "POST", "path": f"/v1/fees/{w.a.id}/checks", "json": body}


Builder = Callable[[Deps, World, str], dict[str, Any]]
P = "/v1/fees/{merchant_id}"
FEE_ROUTES: dict[tuple[str, str], tuple[str, Builder]] = {
    ("GET", f"{P}/periods"): ("fees.read", lambda d, w, r: {"method": "GET", "path": f"/v1/fees/{w.a.id}/periods"}),
    ("POST", f"{P}/periods"): ("fees.contract", lambda d, w, r: _fresh_period(d, w)),
    ("POST", f"{P}/periods/{{period_id}}/consent"): (
        "fees.contract",
        lambda d, w, r: {
            "method": "POST",
            "path": f"/v1/fees/{w.a.id}/periods/{a_period(d, w)}/consent",
            "json": {"consented_on": "2026-11-01", "reference": "BG-1"},
        },
    ),
    ("POST", f"{P}/checks"): ("fees.check", lambda d, w, r: _check(d, w)),
    ("GET", f"{P}/payouts"): ("fees.read", lambda d, w, r: {"method": "GET", "path": f"/v1/fees/{w.a.id}/payouts"}),
    ("GET", f"{P}/payouts/{{payout_id}}"): (
        "fees.read",
        lambda d, w, r: {"method": "GET", "path": f"/v1/fees/{w.a.id}/payouts/{a_case(d, w)}"},
    ),
    ("POST", f"{P}/payouts/{{payout_id}}/approve"): (
        "fees.approve",
        lambda d, w, r: {"method": "POST", "path": f"/v1/fees/{w.a.id}/payouts/{a_case(d, w)}/approve"},
    ),
    ("POST", f"{P}/payouts/{{payout_id}}/reject"): (
        "fees.approve",
        lambda d, w, r: {
            "method": "POST",
            "path": f"/v1/fees/{w.a.id}/payouts/{a_case(d, w)}/reject",
            "json": {"reason": "重复申请"},
        },
    ),
    ("POST", f"{P}/payouts/{{payout_id}}/pay"): (
        "fees.pay",
        lambda d, w, r: {
            "method": "POST",
            "path": f"/v1/fees/{w.a.id}/payouts/{a_case(d, w, approved=True)}/pay",
            "json": {"transfer_ref": "TR-1"},
        },
    ),
    ("GET", f"{P}/charges"): ("fees.read", lambda d, w, r: {"method": "GET", "path": f"/v1/fees/{w.a.id}/charges"}),
    ("POST", f"{P}/charges"): (
        "fees.charge",
        lambda d, w, r: {
            "method": "POST",
            "path": f"/v1/fees/{w.a.id}/charges",
            "json": {"kind": "activation", "amount_fen": 29_900, "charged_on": "2026-11-01", "terms": {"kind": "none"}},
        },
    ),
    ("POST", f"{P}/charges/{{charge_id}}/refund-request"): (
        "fees.charge_refund",
        lambda d, w, r: {
            "method": "POST",
            "path": f"/v1/fees/{w.a.id}/charges/{a_charge(d, w)}/refund-request",
            "json": {},
        },
    ),
}
# What an allowed role is answered where it is not 200.
FEE_ANSWER: dict[tuple[str, str], tuple[int, str | None]] = {
    ("POST", f"{P}/periods"): (201, None),
    ("POST", f"{P}/checks"): (200, None),  # no settlement lines in the dates: nothing overcharged
    ("POST", f"{P}/charges"): (201, None),
    ("POST", f"{P}/charges/{{charge_id}}/refund-request"): (201, None),
}
