"""No full card number is ever stored or logged: pushed through every input, it is refused with
``pan_detected``, and afterwards neither the database nor the log holds it."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from starlette.testclient import TestClient

from posrefund.adapters.db.tables import metadata
from posrefund.bootstrap import engine_of
from posrefund.config import Settings
from posrefund.entrypoints.api.pii_guard import CARD_DESTINATIONS
from posrefund.entrypoints.logging_setup import configure
from posrefund.service.deps import Deps
from tests.api.conftest import Auth
from tests.api.test_roles_matrix import ROLES, ROUTES, allowed
from tests.conftest import World

CARDS = ["6222021234567890128", "4111111111111111", "5500 0000 0000 0004"]


def digits(card: str) -> str:
    return card.replace(" ", "")


def string_paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(value, str):
        return [path]
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in string_paths(v, (*path, k))]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in string_paths(v, (*path, i))]
    return []


def field_name(path: tuple[Any, ...]) -> str:
    """As the guard names it: ``customer.phone``, list items as ``evidence_ids[0]``."""
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


def replaced(body: Any, path: tuple[Any, ...], new: str) -> Any:
    out = copy.deepcopy(body)
    node = out
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = new
    return out


def everything_stored(deps: Deps, settings: Settings, backend: str) -> str:
    """The whole database as text: the SQLite files byte for byte, or every row of every table."""
    if backend == "sqlite":
        db = Path(str(engine_of(deps).url.database))
        blobs = [p.read_bytes() for p in db.parent.glob(db.name + "*")]
        return b"".join(blobs).decode("latin-1")
    with engine_of(deps).connect() as c:
        return " ".join(
            str(row) for t in metadata.sorted_tables for row in c.execute(text(f'SELECT * FROM "{t.name}"'))
        )


@pytest.fixture
def logged(settings: Settings) -> Path:
    assert settings.log_file is not None
    configure("DEBUG", settings.log_file)
    return settings.log_file


def carries_digits_by_design(method: str, path: str, field: tuple[Any, ...]) -> bool:
    """The field of a route the card guard lets a card-like number through (``pii_guard.CARD_DESTINATIONS``)."""
    return any(
        method == m and route.match(path.split("?", maxsplit=1)[0]) and field == (name,)
        for m, route, name in CARD_DESTINATIONS
    )


def test_card_numbers_are_refused_everywhere_and_stored_nowhere(
    client: TestClient, auth: Auth, deps: Deps, world: World, settings: Settings, backend: str, logged: Path
) -> None:
    tried = 0
    for (method, path), (action, build) in sorted(ROUTES.items()):
        role = next((r for r in ROLES if r != "provider" and allowed(action, r)), "provider")
        who = "provider" if role == "provider" else f"a.{role}"
        call = build(deps, world, role)
        for field in string_paths(call.json):
            if carries_digits_by_design(method, call.path, field):
                continue  # the one field a card-like number is meant for: tests/security test it refused elsewhere
            for card in CARDS:
                body = replaced(call.json, field, f"x {card} y" if field[-1] in ("note", "reason", "name") else card)
                r = client.request(method, call.path, json=body, headers={**auth(who), **(call.headers or {})})
                tried += 1
                assert r.status_code == 422 and r.json()["code"] == "pan_detected", (path, field, r.text)
                assert r.json()["params"]["field"] == field_name(field)
    # Query strings, path segments, multipart file names and a raw non-JSON body.
    for card in CARDS:
        for q in ("voucher_no", "order_no", "last4"):
            r = client.get("/v1/sales", params={q: card}, headers=auth("a.cashier"))
            assert r.status_code == 422 and r.json()["code"] == "pan_detected"
        assert client.get(f"/v1/refunds/{digits(card)}", headers=auth("a.cashier")).status_code == 422
        r = client.post(
            "/v1/evidence",
            files={"file": (f"{card}.jpg", b"\xff\xd8\xff\xe0xx", "image/jpeg")},
            headers=auth("a.cashier"),
        )
        assert r.status_code == 422 and r.json()["code"] == "pan_detected"
        r = client.post("/v1/auth/token", content=f"username={card}", headers={"content-type": "text/plain"})
        assert r.status_code == 422
        tried += 6
    assert tried >= 117  # every string field of every route, three card formats each
    stored = everything_stored(deps, settings, backend)
    log = logged.read_text(encoding="utf-8")
    assert log.count('"path"') >= tried - 10  # the log did record the requests, without their content
    for card in CARDS:
        for form in {card, digits(card)}:
            assert form not in stored
            assert form not in log


def test_phone_and_id_numbers_never_stored_in_clear(
    client: TestClient, auth: Auth, deps: Deps, world: World, settings: Settings, backend: str, logged: Path
) -> None:
    from tests.support.helpers import new_sale

    sale = new_sale(deps, world.a)
    body = {
        "sale_id": sale.id,
        "amount_fen": 100,
        "reason": "other",
        "customer": {"phone": "13912345678", "name": "李四", "id_no": "11010519491231002X"},
    }
    case = client.post("/v1/refunds", json=body, headers=auth("a.cashier", **{"Idempotency-Key": "p1"})).json()
    assert case["customer"] == {"phone": "139****5678", "name": "李*", "id_no": "110***********002X"}
    shown = client.get(f"/v1/refunds/{case['id']}", headers=auth("a.supervisor")).json()
    assert shown["customer"]["phone"] == "139****5678"
    assert (
        client.post(
            f"/v1/refunds/{case['id']}/customer/reveal", json={"purpose": "回访"}, headers=auth("a.cashier")
        ).status_code
        == 403
    )
    clear = client.post(
        f"/v1/refunds/{case['id']}/customer/reveal", json={"purpose": "回访"}, headers=auth("a.customer_service")
    ).json()
    assert clear["phone"] == "13912345678"
    events = client.get(f"/v1/refunds/{case['id']}/events", headers=auth("a.auditor")).json()["items"]
    assert events[-1]["action"] == "customer.revealed" and events[-1]["data"]["fields"] == ["phone", "name", "id_no"]
    stored = everything_stored(deps, settings, backend)
    log = logged.read_text(encoding="utf-8")
    for secret in ("13912345678", "11010519491231002X", "李四"):
        assert secret not in stored and secret not in log
