"""No 5xx on any input: schemathesis generates requests from our own OpenAPI description and sends them
through the real app, database and service layer, signed in as a merchant admin (the broadest role).

(schemathesis' own pytest loader does not yet work with pytest 9, so each operation's strategy is driven
with Hypothesis here directly.)"""

from __future__ import annotations

import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from posrefund.service.deps import Deps
from tests.api.conftest import Auth
from tests.conftest import World
from tests.support.helpers import new_sale


def test_no_server_error_on_any_input(app: FastAPI, auth: Auth, deps: Deps, world: World) -> None:
    new_sale(deps, world.a)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    headers = {**auth("a.admin"), "Idempotency-Key": "fuzz"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 25
    statuses: list[int] = []

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def no_server_error(case: schemathesis.Case) -> None:
            response = case.call_and_validate(headers=headers, checks=[not_a_server_error])
            statuses.append(response.status_code)

        no_server_error()
    assert len(statuses) > 300
    assert any(s < 300 for s in statuses) and any(400 <= s < 500 for s in statuses)
