"""The payer's Alipay payment code (付款码) a freeze is asked with is used for that one call and kept nowhere: not
in any table (the audit trail and the operation's details included), not in the log, not in an answer, also when
the answer was lost and the worker finished the freeze. The card guard lets such a code through only as
``payer_code`` of ``POST /v1/holds/alipay`` (its digits may pass a card number's checks by chance)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from posrefund.config import Settings
from posrefund.domain.pii import luhn_ok
from posrefund.service import fund_holds
from posrefund.service.deps import Deps
from tests.api.conftest import Auth
from tests.api.test_alipay_holds_api import freeze, hold
from tests.api.test_pii import everything_stored
from tests.conftest import FixedClock, World
from tests.support.alipay_holds import PAYER_CODE, Alipay, alipay_line

# 18 digits from 30 that pass Luhn: the card detector reads them as a Diners number
CARD_LIKE_CODE = next(c for c in (f"30{n:016d}" for n in range(6648048691290420, 6648048691290440)) if luhn_ok(c))


@pytest.fixture
def alipay(app: FastAPI, deps: Deps, monkeypatch: pytest.MonkeyPatch) -> Iterator[Alipay]:
    with alipay_line(app, deps, monkeypatch) as line:
        yield line


def kept_nowhere(deps: Deps, settings: Settings, backend: str, code: str) -> None:
    stored = everything_stored(deps, settings, backend)
    assert code not in stored, "stored in the database"
    log = settings.log_file.read_text(encoding="utf-8") if settings.log_file and settings.log_file.exists() else ""
    assert code not in log, "written to the log"


def test_the_payer_code_is_kept_nowhere_even_when_the_worker_finishes_the_freeze(
    client: TestClient,
    auth: Auth,
    world: World,
    deps: Deps,
    clock: FixedClock,
    settings: Settings,
    backend: str,
    alipay: Alipay,
) -> None:
    alipay.sim.fund_auth.set_fault(alipay.next_number(), "no_answer_after_accept")
    r = freeze(client, auth, world)
    assert (r.status_code, r.json()["state"]) == (201, "holding")
    assert PAYER_CODE not in r.text
    clock.advance(minutes=5)
    assert fund_holds.sweep_holds(deps, alipay.worker) == 1
    found = hold(client, auth, r.json()["id"])
    assert found["state"] == "held" and PAYER_CODE not in str(found)
    kept_nowhere(deps, settings, backend, PAYER_CODE)


def test_a_code_that_looks_like_a_card_number_passes_only_as_the_payer_code(
    client: TestClient, auth: Auth, world: World, deps: Deps, settings: Settings, backend: str, alipay: Alipay
) -> None:
    assert luhn_ok(CARD_LIKE_CODE)
    r = freeze(client, auth, world, code=CARD_LIKE_CODE)
    assert (r.status_code, r.json()["state"]) == (201, "held")
    kept_nowhere(deps, settings, backend, CARD_LIKE_CODE)
    body = {"terminal_id": world.a.terminal_id, "amount_fen": 100, "payer_code": PAYER_CODE}
    r = client.post("/v1/holds/alipay", json=body | {"title": CARD_LIKE_CODE}, headers=auth("a.cashier"))
    assert (r.status_code, r.json()["code"]) == (422, "pan_detected")
    r = client.post("/v1/holds", json={"payer_code": CARD_LIKE_CODE}, headers=auth("a.cashier"))
    assert (r.status_code, r.json()["code"]) == (422, "pan_detected")
