"""The reconciliation desk's routes (stored layouts, preview, till checks) for the role × route matrix: each builder
returns the request as keyword arguments of ``Call``; names and ids in paths belong to merchant A."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from posrefund.domain.errors import NotFound
from posrefund.service import till
from posrefund.service.deps import Deps
from posrefund.service.reconciliation import mappings
from tests.conftest import World
from tests.support.desk import LAYOUT, export

P = "/v1/reconciliation/mappings"
T = "/v1/tills"
_shifts = itertools.count(1)


def a_mapping(d: Deps, w: World) -> int:
    """Merchant A's layout ``shared``, created once; its current version."""
    finance = w.a.actors["finance"]
    try:
        return int(mappings.get_mapping(d, finance, "shared")["version"])
    except NotFound:
        return int(mappings.put_mapping(d, finance, "shared", LAYOUT)["version"])


def a_shift(d: Deps) -> dict[str, str]:
    """A shift window of its own (an hour, each a day further back), so counts never overlap."""
    closed = d.clock.now() - timedelta(days=next(_shifts))
    return {"opened_at": (closed - timedelta(hours=8)).isoformat(), "closed_at": closed.isoformat()}


def a_till(d: Deps, w: World) -> str:
    window = a_shift(d)
    from datetime import datetime

    count = till.TillCount(
        terminal_id=w.a.terminal_id,
        opened_at=datetime.fromisoformat(window["opened_at"]),
        closed_at=datetime.fromisoformat(window["closed_at"]),
        float_fen=50_000,
        counted_fen=50_000,
    )
    return str(till.count_till(d, w.a.actors["cashier"], count)["id"])


Builder = Callable[[Deps, World, str], dict[str, Any]]
DESK_ROUTES: dict[tuple[str, str], tuple[str, Builder]] = {
    ("GET", P): ("recon.read", lambda d, w, r: {"method": "GET", "path": P}),
    ("POST", P): (
        "recon.mapping",
        lambda d, w, r: {"method": "POST", "path": P, "json": {"name": f"m-{r}", "spec": LAYOUT}},
    ),
    ("GET", f"{P}/{{name}}"): (
        "recon.read",
        lambda d, w, r: {"method": "GET", "path": f"{P}/shared" if a_mapping(d, w) else P},
    ),
    ("PUT", f"{P}/{{name}}"): (
        "recon.mapping",
        lambda d, w, r: {"method": "PUT", "path": f"{P}/shared", "json": {"spec": LAYOUT, "version": a_mapping(d, w)}},
    ),
    ("POST", f"{P}/preview"): (
        "recon.import",
        lambda d, w, r: {
            "method": "POST",
            "path": f"{P}/preview",
            "files": {"file": ("f.csv", export(), "text/csv"), "name": (None, "chinaums")},
        },
    ),
    ("POST", T): (
        "till.count",
        lambda d, w, r: {
            "method": "POST",
            "path": T,
            "json": {"terminal_id": w.a.terminal_id, "float_fen": 50_000, "counted_fen": 50_000, **a_shift(d)},
        },
    ),
    ("GET", T): ("till.read", lambda d, w, r: {"method": "GET", "path": T}),
    ("GET", f"{T}/tolerance"): ("till.read", lambda d, w, r: {"method": "GET", "path": f"{T}/tolerance"}),
    ("PUT", f"{T}/tolerance"): (
        "till.configure",
        lambda d, w, r: {"method": "PUT", "path": f"{T}/tolerance", "json": {"tolerance_fen": 1_000}},
    ),
    ("GET", f"{T}/{{till_id}}"): ("till.read", lambda d, w, r: {"method": "GET", "path": f"{T}/{a_till(d, w)}"}),
    ("POST", f"{T}/{{till_id}}/sign-off"): (
        "till.sign_off",
        lambda d, w, r: {"method": "POST", "path": f"{T}/{a_till(d, w)}/sign-off", "json": {"note": ""}},
    ),
}
# What an allowed role is answered, where it is not 200.
DESK_ANSWER: dict[tuple[str, str], tuple[int, str | None]] = {("POST", P): (201, None), ("POST", T): (201, None)}
