"""The OpenAPI description says what every operation answers, and the answers are what it says: every 2xx
has a schema (or a declared media type for files and pages), every operation declares its refusals with the
one error body, and real answers validate against the declared models."""

from __future__ import annotations

from typing import Any

import jsonschema_rs
import pytest
from fastapi import FastAPI
from starlette.testclient import TestClient

from posrefund.entrypoints.api.errors import ErrorBody
from posrefund.service.deps import Deps
from tests.api.conftest import Auth
from tests.api.test_roles_matrix import ROLES, ROUTES, allowed, send
from tests.conftest import World

ERROR_REF = "#/components/schemas/ErrorBody"
# The probes take no input and no sign-in: nothing for them to refuse (/readyz answers 503 when not ready).
NOTHING_TO_REFUSE = {("GET", "/healthz"), ("GET", "/readyz")}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
NOT_JSON = {"text/csv", "text/html", "text/plain", "application/octet-stream", "application/pdf", XLSX}


def answers_of(app: FastAPI, kind: str) -> list[tuple[str, str, dict[str, Any], dict[str, Any]]]:
    """(method, path, operation, its responses whose status starts with ``kind``) for every operation."""
    return [
        (m.upper(), path, op, {s: r for s, r in op["responses"].items() if s.startswith(kind)})
        for path, ops in app.openapi()["paths"].items()
        for m, op in ops.items()
    ]


def test_the_error_body_is_the_one_model(app: FastAPI) -> None:
    schema = app.openapi()["components"]["schemas"]["ErrorBody"]
    assert set(schema["properties"]) == {"code", "message", "params"}
    assert set(schema["required"]) == {"code", "message", "params"}
    assert "HTTPValidationError" not in app.openapi()["components"]["schemas"]


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_every_2xx_has_a_schema_or_a_media_type(app: FastAPI) -> None:
    for method, path, _, ok in answers_of(app, "2"):
        assert ok, (method, path)
        for status, response in ok.items():
            if status == "204":
                assert "content" not in response, (method, path)
                continue
            content = response.get("content")
            assert content, (method, path, status)
            for media, body in content.items():
                schema = body.get("schema", {})
                if media in NOT_JSON:
                    assert schema.get("type") == "string", (method, path, media)
                else:
                    assert media == "application/json", (method, path, media)
                    assert "$ref" in schema, (method, path, status, schema)


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_every_operation_declares_its_refusals_with_the_error_body(app: FastAPI) -> None:
    for method, path, op, refusals in answers_of(app, "4"):
        assert bool(refusals) != ((method, path) in NOTHING_TO_REFUSE), (method, path)
        for status, response in refusals.items():
            assert response["content"]["application/json"]["schema"] == {"$ref": ERROR_REF}, (method, path, status)
        if path.startswith("/v1/") and "/callbacks/" not in path and path not in ("/v1/auth/token", "/v1/auth/refresh"):
            assert {"401", "403", "422"} <= set(refusals), (method, path)
        if "requestBody" in op:
            assert "413" in refusals, (method, path)
        if "{" in path:
            assert "404" in refusals, (method, path)


def answer_schema(document: dict[str, Any], method: str, path: str, status: int) -> dict[str, Any] | None:
    """The declared JSON schema of one answer, resolvable on its own (it carries the components)."""
    response = document["paths"][path][method.lower()]["responses"].get(str(status))
    assert response is not None, (method, path, status)
    schema = response.get("content", {}).get("application/json", {}).get("schema")
    return None if schema is None else {**schema, "components": document["components"]}


def test_real_answers_match_the_declared_models(client: TestClient, auth: Auth, deps: Deps, world: World) -> None:
    document = client.get("/openapi.json").json()
    checked = 0
    for (method, path), (action, build) in sorted(ROUTES.items()):
        role = next(r for r in ROLES if allowed(action, r))
        who = "provider" if role == "provider" else f"a.{role}"
        r = send(client, build(deps, world, role), auth(who))
        schema = answer_schema(document, method, path, r.status_code)
        if schema is not None and "json" in r.headers.get("content-type", ""):
            jsonschema_rs.validate(schema, r.json())
            checked += 1
    assert checked >= 50
    # (the cashier signed out everywhere above, on the route that does it)
    refused = client.get("/v1/refunds/nope", headers=auth("a.supervisor"))
    assert refused.status_code == 404
    ErrorBody.model_validate(refused.json())
    error_schema = answer_schema(document, "GET", "/v1/refunds/{refund_id}", 404)
    assert error_schema is not None
    jsonschema_rs.validate(error_schema, refused.json())
