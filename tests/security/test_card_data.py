"""A full card number written any way, sent through any HTTP input, is refused at the one boundary with
422 ``pan_detected`` naming the field only; afterwards neither the database nor the log holds it.

One test per (written form × input channel). The API answers JSON; the console (forms a person posts)
answers an HTML page that carries the same code.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import Engine
from starlette.testclient import TestClient

from posrefund.adapters.db import tables
from posrefund.config import Settings
from posrefund.service.deps import Deps
from tests.api.conftest import Auth, refund_body
from tests.conftest import World
from tests.console.test_console_pages import PNG, refund_form
from tests.security.probes import WRITTEN, no_refund_and_no_audit_of_it, rows, stored_nowhere
from tests.support.helpers import new_sale

FORMS = sorted(WRITTEN)
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64


def refused(r: Any, field: str) -> None:
    assert r.status_code == 422, r.text
    body = r.json()
    assert (body["code"], body["params"]) == ("pan_detected", {"field": field})


def refused_page(r: Any) -> None:
    assert r.status_code == 422, r.text
    assert 'data-code="pan_detected"' in r.text and "请勿提交完整银行卡号" in r.text


@pytest.fixture
def audit_before(engine: Engine, world: World) -> int:
    return rows(engine, tables.audit_events)


@pytest.mark.parametrize("form", FORMS)
def test_json_body(
    form: str,
    client: TestClient,
    auth: Auth,
    deps: Deps,
    world: World,
    settings: Settings,
    backend: str,
    engine: Engine,
    audit_before: int,
) -> None:
    sale = new_sale(deps, world.a)
    body = refund_body(sale.id, note=f"顾客卡号 {WRITTEN[form]} 请退")
    r = client.post("/v1/refunds", json=body, headers=auth("a.cashier", **{"Idempotency-Key": "k-json"}))
    refused(r, "note")
    no_refund_and_no_audit_of_it(engine, audit_before + 1)  # the sale's own event only
    stored_nowhere(deps, settings, backend, WRITTEN[form])


@pytest.mark.parametrize("form", FORMS)
def test_json_body_with_a_capitalised_content_type(
    form: str,
    client: TestClient,
    auth: Auth,
    deps: Deps,
    world: World,
    settings: Settings,
    backend: str,
    engine: Engine,
    audit_before: int,
) -> None:
    sale = new_sale(deps, world.a)
    body = json.dumps(refund_body(sale.id, note=WRITTEN[form]), ensure_ascii=False).encode()
    headers = auth("a.cashier", **{"Idempotency-Key": "k-cap", "Content-Type": "Application/JSON"})
    refused(client.post("/v1/refunds", content=body, headers=headers), "note")
    no_refund_and_no_audit_of_it(engine, audit_before + 1)
    stored_nowhere(deps, settings, backend, WRITTEN[form])


@pytest.mark.parametrize("form", FORMS)
def test_form_field(
    form: str,
    as_user: Any,
    deps: Deps,
    world: World,
    settings: Settings,
    backend: str,
    engine: Engine,
    audit_before: int,
) -> None:
    sale = new_sale(deps, world.a)
    cashier = as_user("a.cashier")
    data = {**refund_form(cashier, sale.id, note=WRITTEN[form]), "csrf": cashier.csrf}
    refused_page(cashier.client.post(f"/console/desk/sale/{sale.id}", data=data))
    assert rows(engine, tables.refunds) == 0
    stored_nowhere(deps, settings, backend, WRITTEN[form])


@pytest.mark.parametrize("form", FORMS)
def test_multipart_field(
    form: str, as_user: Any, deps: Deps, world: World, settings: Settings, backend: str, engine: Engine
) -> None:
    sale = new_sale(deps, world.a)
    cashier = as_user("a.cashier")
    data = {**refund_form(cashier, sale.id, note=WRITTEN[form]), "csrf": cashier.csrf}
    files = {"evidence": ("r.png", PNG, "image/png")}
    refused_page(cashier.client.post(f"/console/desk/sale/{sale.id}", data=data, files=files))
    assert rows(engine, tables.refunds) == 0 and rows(engine, tables.evidence) == 0
    stored_nowhere(deps, settings, backend, WRITTEN[form])


@pytest.mark.parametrize("form", FORMS)
def test_multipart_file_name(
    form: str,
    client: TestClient,
    auth: Auth,
    deps: Deps,
    world: World,
    settings: Settings,
    backend: str,
    engine: Engine,
    audit_before: int,
) -> None:
    files = {"file": (f"{WRITTEN[form]}.jpg", JPEG, "image/jpeg")}
    refused(client.post("/v1/evidence", files=files, headers=auth("a.cashier")), "file.filename")
    assert rows(engine, tables.evidence) == 0 and rows(engine, tables.audit_events) == audit_before
    stored_nowhere(deps, settings, backend, WRITTEN[form])


@pytest.mark.parametrize("form", FORMS)
def test_query(
    form: str, client: TestClient, auth: Auth, deps: Deps, world: World, settings: Settings, backend: str
) -> None:
    refused(client.get("/v1/sales", params={"order_no": WRITTEN[form]}, headers=auth("a.cashier")), "order_no")
    stored_nowhere(deps, settings, backend, WRITTEN[form])


@pytest.mark.parametrize("form", FORMS)
def test_path(
    form: str, client: TestClient, auth: Auth, deps: Deps, world: World, settings: Settings, backend: str
) -> None:
    refused(client.get(f"/v1/refunds/{WRITTEN[form]}", headers=auth("a.cashier")), "path")
    stored_nowhere(deps, settings, backend, WRITTEN[form])  # the access log names the path: redacted
    assert '"path": "/v1/refunds/[PAN]' in settings.log_file.read_text(encoding="utf-8")  # type: ignore[union-attr]


@pytest.mark.parametrize("form", FORMS)
def test_header(
    form: str,
    client: TestClient,
    auth: Auth,
    deps: Deps,
    world: World,
    settings: Settings,
    backend: str,
    engine: Engine,
    audit_before: int,
) -> None:
    """The idempotency key is stored with the refund it guards: a card number in it would be kept."""
    sale = new_sale(deps, world.a)
    headers: dict[str, Any] = {**auth("a.cashier"), "Idempotency-Key": WRITTEN[form].encode("utf-8")}
    r = client.post("/v1/refunds", json=refund_body(sale.id), headers=headers)
    refused(r, "headers.idempotency-key")
    no_refund_and_no_audit_of_it(engine, audit_before + 1)
    stored_nowhere(deps, settings, backend, WRITTEN[form])
