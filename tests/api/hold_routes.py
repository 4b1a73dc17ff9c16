"""The card pre-authorisation routes for the role × route matrix: each builder returns the request as keyword
arguments of ``Call``; every hold named in a path is merchant A's, a fresh one where the call changes it."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from posrefund.service import fund_holds
from posrefund.service.deps import Deps
from posrefund.service.fund_holds import CardHoldInput
from tests.conftest import World

H = "/v1/holds"
_vouchers = itertools.count(1)


def slip(d: Deps, w: World) -> dict[str, Any]:
    """What the terminal printed for a 预授权 of its own (a voucher number never used before)."""
    n = next(_vouchers)
    held_at = d.clock.now() - timedelta(hours=1)
    return {
        "terminal_id": w.a.terminal_id,
        "amount_fen": 10_000,
        "held_at": held_at.isoformat(),
        "rrn": f"{n:012d}",
        "auth_code": "A1B2C3",
        "voucher_no": f"{n:06d}",
        "batch_no": "000001",
        "card_masked": "622202******1234",
    }


def a_hold(d: Deps, w: World) -> str:
    body = slip(d, w)
    body["held_at"] = d.clock.now() - timedelta(hours=1)
    return fund_holds.record_card_hold(d, w.a.actors["terminal"], CardHoldInput(**body)).id


Builder = Callable[[Deps, World, str], dict[str, Any]]
HOLD_ROUTES: dict[tuple[str, str], tuple[str, Builder]] = {
    ("POST", H): ("hold.record", lambda d, w, r: {"method": "POST", "path": H, "json": slip(d, w)}),
    ("GET", H): ("hold.read", lambda d, w, r: {"method": "GET", "path": H}),
    ("GET", f"{H}/expiring"): ("hold.read", lambda d, w, r: {"method": "GET", "path": f"{H}/expiring?days=3"}),
    ("GET", f"{H}/{{hold_id}}"): ("hold.read", lambda d, w, r: {"method": "GET", "path": f"{H}/{a_hold(d, w)}"}),
    ("POST", f"{H}/{{hold_id}}/complete"): (
        "hold.complete",
        lambda d, w, r: {"method": "POST", "path": f"{H}/{a_hold(d, w)}/complete", "json": {"amount_fen": 9_000}},
    ),
    ("POST", f"{H}/{{hold_id}}/release"): (
        "hold.release",
        lambda d, w, r: {"method": "POST", "path": f"{H}/{a_hold(d, w)}/release", "json": {"reason": "退房"}},
    ),
    ("POST", f"{H}/alipay"): (
        "hold.record",
        lambda d, w, r: {
            "method": "POST",
            "path": f"{H}/alipay",
            "json": {
                "terminal_id": w.a.terminal_id,
                "amount_fen": 10_000,
                "payer_code": "286648048691290423",
                "title": "房间押金",
                "expires_at": (d.clock.now() + timedelta(days=3)).isoformat(),
            },
        },
    ),
    ("POST", f"{H}/{{hold_id}}/cancel-completion"): (
        "hold.cancel_completion",
        lambda d, w, r: {"method": "POST", "path": f"{H}/{a_hold(d, w)}/cancel-completion", "json": {}},
    ),
    ("GET", f"{H}/attention"): ("hold.read", lambda d, w, r: {"method": "GET", "path": f"{H}/attention"}),
    ("POST", f"{H}/{{hold_id}}/retry"): (
        "hold.retry",
        lambda d, w, r: {"method": "POST", "path": f"{H}/{a_hold(d, w)}/retry", "json": {}},
    ),
}
HOLD_ANSWERS: dict[tuple[str, str], tuple[int, str | None]] = {
    ("POST", H): (201, None),
    ("POST", f"{H}/{{hold_id}}/complete"): (202, None),
    ("POST", f"{H}/{{hold_id}}/release"): (202, None),
    ("POST", f"{H}/{{hold_id}}/cancel-completion"): (409, "hold.not_completed"),  # a fresh hold: nothing to cancel
    ("POST", f"{H}/{{hold_id}}/retry"): (409, "hold.not_retryable"),  # a fresh hold: nothing refused
}
