"""The operations endpoints on the real app and database: /healthz, /readyz (and each way it says not ready),
/metrics (who may read it, and what it says after real requests), and the request id every answer carries."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import cast

import pytest
import structlog
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine, text
from starlette.testclient import TestClient

from posrefund import __version__
from posrefund.adapters.db.migrate import head_revisions
from posrefund.config import Settings
from posrefund.entrypoints.api.app import create_app
from posrefund.entrypoints.logging_setup import configure
from posrefund.service.deps import Deps
from tests.api.conftest import Auth, refund_body
from tests.api.recon_routes import run_call
from tests.conftest import FixedClock, World
from tests.support.helpers import new_sale
from tests.support.limits import RELAXED

GENERATED = re.compile(r"[0-9a-f]{32}")
LOCAL = ("127.0.0.1", 40000)
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def samples(body: str) -> Samples:
    """Every sample of a scrape, by name and labels."""
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(body)
        for s in family.samples
    }


def value(scrape: Samples, name: str, **labels: str) -> float | None:
    return scrape.get((name, frozenset(labels.items())))


@pytest.fixture
def local(app: FastAPI) -> Iterator[TestClient]:
    """A client on this host, as a Prometheus agent beside the server is."""
    with TestClient(app, raise_server_exceptions=False, client=LOCAL) as c:
        yield c


def test_healthz_answers_without_the_database() -> None:
    # Deps without a database at all: any use of one would fail.
    nothing = cast(Deps, SimpleNamespace(secret_key="h" * 32))
    with TestClient(create_app(nothing, inline=True), raise_server_exceptions=False) as c:
        r = c.get("/healthz")
        assert r.status_code == 200
        assert r.json() == {"status": "ok", "version": __version__}
        assert GENERATED.fullmatch(r.headers["x-request-id"])


def test_readyz_says_ready_with_each_check(client: TestClient) -> None:
    r = client.get("/readyz")
    assert r.status_code == 200
    assert r.json() == {"status": "ready", "checks": {"database": "ok", "schema": "ok", "evidence": "ok"}}


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_readyz_refuses_a_schema_behind_the_migrations(client: TestClient, engine: Engine) -> None:
    (head,) = head_revisions()
    with engine.begin() as c:
        c.execute(text("UPDATE alembic_version SET version_num = '0001'"))
    r = client.get("/readyz", headers={"Accept-Language": "en"})
    assert r.status_code == 503
    assert r.json() == {
        "code": "ready.schema_not_at_head",
        "message": f"The database schema is not the newest (at 0001, expected {head}); run posrefund db upgrade first",
        "params": {
            "current": "0001",
            "head": head,
            "checks": {"database": "ok", "schema": "failed", "evidence": "ok"},
        },
    }
    with engine.begin() as c:
        c.execute(text("UPDATE alembic_version SET version_num = :head"), {"head": head})
    assert client.get("/readyz").status_code == 200


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_readyz_refuses_an_evidence_store_it_cannot_write(client: TestClient, settings: Settings) -> None:
    # A file where the store's directory should be: no one, root included, can write evidence there.
    (settings.data_dir / "evidence").parent.mkdir(parents=True, exist_ok=True)
    (settings.data_dir / "evidence").write_bytes(b"not a directory")
    r = client.get("/readyz")
    assert r.status_code == 503
    body = r.json()
    assert body["code"] == "ready.evidence_unreachable"
    assert body["message"] == "凭证存储无法读写，本节点暂不接收请求"
    assert body["params"] == {"checks": {"database": "ok", "schema": "ok", "evidence": "failed"}}
    (settings.data_dir / "evidence").unlink()
    assert client.get("/readyz").status_code == 200


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_readyz_refuses_a_database_file_gone_bad(client: TestClient, settings: Settings, engine: Engine) -> None:
    engine.dispose()
    path = Path(settings.database_url.removeprefix("sqlite:///"))
    kept = path.read_bytes()
    path.write_bytes(b"this is not a database" * 100)
    r = client.get("/readyz")
    assert r.status_code == 503
    assert r.json()["code"] == "ready.database_unreachable"
    assert r.json()["params"] == {"checks": {"database": "failed", "schema": "not_checked", "evidence": "ok"}}
    engine.dispose()
    path.write_bytes(kept)
    assert client.get("/readyz").status_code == 200


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_metrics_open_to_this_host_only_without_a_token(client: TestClient, local: TestClient) -> None:
    assert local.get("/metrics").status_code == 200
    far = client.get("/metrics")  # TestClient's own address is not this host's
    assert far.status_code == 403 and far.json()["code"] == "metrics.forbidden"
    proxied = local.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"})
    assert proxied.status_code == 403 and proxied.json()["code"] == "metrics.forbidden"
    forwarded = local.get("/metrics", headers={"Forwarded": "for=203.0.113.9"})
    assert forwarded.status_code == 403


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_metrics_with_a_token_need_it_from_everywhere(deps: Deps) -> None:
    app = create_app(deps, inline=True, rate_limits=RELAXED, metrics_token="s3cret-metrics-token-0123456789")
    with TestClient(app, raise_server_exceptions=False, client=LOCAL) as c:
        missing = c.get("/metrics", headers={"Accept-Language": "en"})
        assert missing.status_code == 401
        assert missing.json()["code"] == "metrics.token_required"
        assert missing.json()["message"] == "Reading the metrics needs the valid metrics token"
        wrong = c.get("/metrics", headers={"Authorization": "Bearer s3cret-metrics-token-012345678X"})
        assert wrong.status_code == 401
        good = c.get("/metrics", headers={"Authorization": "Bearer s3cret-metrics-token-0123456789"})
        assert good.status_code == 200
        assert good.headers["content-type"].startswith("text/plain")


def test_metrics_after_refunds(
    client: TestClient, local: TestClient, auth: Auth, world: World, deps: Deps, clock: FixedClock
) -> None:
    ids = []
    for n in range(3):
        sale = new_sale(deps, world.a, channel="wechat")
        r = client.post(
            "/v1/refunds", json=refund_body(sale.id), headers=auth("a.cashier", **{"Idempotency-Key": f"k{n}"})
        )
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    wallet = new_sale(deps, world.a, channel="alipay", amount_fen=20_000)
    big = client.post(
        "/v1/refunds", json=refund_body(wallet.id, amount=15_000), headers=auth("a.cashier", **{"Idempotency-Key": "b"})
    )
    assert big.status_code == 201 and big.json()["status"] == "pending_review"
    for refund_id in ids:
        assert client.get(f"/v1/refunds/{refund_id}", headers=auth("a.supervisor")).status_code == 200
    assert client.get("/v1/refunds/rfd_nope", headers=auth("a.supervisor")).status_code == 404
    client.get("/healthz")
    clock.advance(seconds=90)

    body = local.get("/metrics").text
    scrape = samples(body)
    latency = "posrefund_http_request_duration_seconds_count"
    assert value(scrape, latency, method="POST", route="/v1/refunds", status_class="2xx") == 4
    assert value(scrape, latency, method="GET", route="/v1/refunds/{refund_id}", status_class="2xx") == 3
    assert value(scrape, latency, method="GET", route="/v1/refunds/{refund_id}", status_class="4xx") == 1
    assert value(scrape, latency, method="GET", route="/healthz", status_class="2xx") == 1
    assert not any(refund_id in body for refund_id in ids)  # templates, never ids
    assert value(scrape, "posrefund_database_up") == 1
    assert value(scrape, "posrefund_refunds_open", state="approved", channel="wechat") == 3
    assert value(scrape, "posrefund_refunds_open", state="pending_review", channel="alipay") == 1
    assert value(scrape, "posrefund_queue_due") == 3
    assert value(scrape, "posrefund_queue_oldest_due_seconds") == 90.0
    assert value(scrape, "posrefund_reconciliation_run_duration_seconds_count", source="wechat") is None


def test_a_request_id_is_kept_when_sane_and_stored_on_the_refund(
    client: TestClient, auth: Auth, world: World, deps: Deps
) -> None:
    sale = new_sale(deps, world.a, channel="wechat")
    headers = auth("a.cashier", **{"Idempotency-Key": "rid-1", "X-Request-ID": "pos-A01:2026-12-04.0001"})
    r = client.post("/v1/refunds", json=refund_body(sale.id), headers=headers)
    assert r.status_code == 201
    assert r.headers["x-request-id"] == "pos-A01:2026-12-04.0001"
    with deps.uow(readonly=True) as uow:
        case = uow.refunds.get_case(world.a.id, r.json()["id"])
    assert case is not None and case.request_id == "pos-A01:2026-12-04.0001"
    personal = ("4111111111111111", "pos-4111-1111-1111-1111", "13812345678", "11010519491231002X")
    for insane in ("x" * 65, "has space", "-leading-dash", "卡号", *personal):
        answer = client.get("/healthz", headers={b"X-Request-ID": insane.encode()})
        assert GENERATED.fullmatch(answer.headers["x-request-id"]), insane
    kept = client.get("/healthz", headers={"X-Request-ID": "550e8400-e29b-41d4-a716-446655440000"})
    assert kept.headers["x-request-id"] == "550e8400-e29b-41d4-a716-446655440000"  # a UUID's digits are no card
    refused = client.get("/v1/refunds/rfd_nope", headers=auth("a.cashier", **{"X-Request-ID": "trace-404"}))
    assert refused.status_code == 404 and refused.headers["x-request-id"] == "trace-404"


def test_the_access_log_names_the_request_and_skips_healthy_probes(
    client: TestClient, auth: Auth, settings: Settings
) -> None:
    assert settings.log_file is not None
    configure("INFO", settings.log_file)
    try:
        client.get("/healthz")
        client.get("/readyz")
        client.get("/v1/refunds/rfd_nope", headers=auth("a.cashier", **{"X-Request-ID": "trace-log-1"}))
    finally:
        structlog.reset_defaults()
    lines = settings.log_file.read_text(encoding="utf-8").splitlines()
    requests = [line for line in lines if '"event": "request"' in line]
    assert len(requests) == 1
    assert '"request_id": "trace-log-1"' in requests[0] and '"status": 404' in requests[0]


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_reconciliation_runs_are_timed(
    client: TestClient, local: TestClient, auth: Auth, world: World, deps: Deps
) -> None:
    refused = client.post(
        "/v1/reconciliation/runs",
        json={"source": "wechat", "date_from": "2026-11-20", "date_to": "2026-11-20"},
        headers=auth("a.finance"),
    )
    assert refused.status_code == 422  # no file: not a run, not timed
    call = run_call(deps, world)
    first = client.request(call["method"], call["path"], json=call["json"], headers=auth("a.finance"))
    assert first.status_code == 201, first.text
    scrape = samples(local.get("/metrics").text)
    runs = "posrefund_reconciliation_run_duration_seconds"
    assert value(scrape, f"{runs}_count", source="card") == 1
    assert value(scrape, f"{runs}_count", source="wechat") is None
    took = value(scrape, f"{runs}_sum", source="card")
    assert took is not None and 0 < took < 60
