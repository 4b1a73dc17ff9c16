"""The debit card an abnormal WeChat Pay refund is sent to: the one card number posrefund must accept. It is let
through only as ``bank_account`` of that one route, and then kept nowhere in clear — not in any table (the
audit trail included), not in the log, not in an answer; ``posrefund pii scan`` finds nothing. Everywhere else,
and as track data or a CVV even there, the guard still refuses it."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from posrefund.adapters.db import tables
from posrefund.config import Settings
from posrefund.demo import channels
from posrefund.service.deps import Deps
from tests.api.conftest import Auth
from tests.api.test_abnormal_refund_api import abnormal_case, app, application, applications, sims
from tests.api.test_pii import everything_stored
from tests.conftest import FixedClock, World
from tests.security.probes import stored_nowhere
from tests.security.test_pan_everywhere import scan_finds

ACCOUNT = "6222021234567890128"  # a Luhn-valid UnionPay debit card number: the guard's detector sees a PAN
HOLDER = "欧阳娜娜"
pytestmark = pytest.mark.usefixtures("env")
__all__ = ["app", "sims"]  # the app routed to the channel simulators


def test_the_card_and_its_holder_are_kept_nowhere_in_clear(
    client: TestClient,
    auth: Auth,
    deps: Deps,
    world: World,
    sims: channels.Simulated,
    clock: FixedClock,
    settings: Settings,
    backend: str,
) -> None:
    case = abnormal_case(client, auth, deps, world, sims, clock)
    auth = Auth(client.app, world)
    body = application(bank_account=ACCOUNT, real_name=HOLDER, consent_by=HOLDER)

    applied = client.post(f"/v1/refunds/{case['id']}/abnormal-refund", json=body, headers=auth("a.supervisor"))

    assert applied.status_code == 200, applied.text
    assert applied.json()["application"]["account_masked"] == "****0128"
    assert applications(sims.simulators["wechat"], case["refund_no"]) == 1
    read = client.get(f"/v1/refunds/{case['id']}/abnormal-refund", headers=auth("a.supervisor"))
    events = client.get(f"/v1/refunds/{case['id']}/events", headers=auth("a.supervisor"))
    for answer in (applied, read, events):
        assert ACCOUNT not in answer.text and HOLDER not in answer.text
    stored_nowhere(deps, settings, backend, ACCOUNT)  # every table, the audit trail included, and the log
    stored = everything_stored(deps, settings, backend)
    assert HOLDER not in stored and HOLDER.encode().decode("latin-1") not in stored
    assert HOLDER not in settings.log_file.read_text(encoding="utf-8") if settings.log_file else True
    report = scan_finds(settings)
    assert report["counts"]["pan"] == 0, report["findings"][:5]
    # Not even encrypted: the number went to WeChat Pay and is gone; what is kept encrypted is the holder's name.
    apps = tables.abnormal_refund_applications
    with deps.uow.engine.connect() as c:  # type: ignore[attr-defined]
        kept = c.execute(select(apps.c.real_name_enc, apps.c.consent_by_enc)).one()
    assert [deps.cipher.decrypt(token) for token in kept] == [HOLDER, HOLDER]
    assert [column.name for column in apps.c if "account" in column.name] == ["account_masked"]


@pytest.mark.parametrize(
    ("where", "value", "code"),
    [
        ("reason", f"卡号 {ACCOUNT}", "pan_detected"),
        ("consent_by", ACCOUNT, "pan_detected"),
        ("bank_account", f";{ACCOUNT}=2912101?", "track_data_detected"),
        ("bank_account", f"{ACCOUNT} cvv 123", "pan_detected"),  # a card number with anything but digits
        ("bank_account", f"{ACCOUNT}\u30000", "pan_detected"),
    ],
)
def test_the_route_takes_a_card_number_in_bank_account_only(
    client: TestClient, auth: Auth, world: World, deps: Deps, where: str, value: str, code: str
) -> None:
    body = application(**{where: value})
    refused = client.post("/v1/refunds/rfd_x/abnormal-refund", json=body, headers=auth("a.supervisor"))
    assert (refused.status_code, refused.json()["code"]) == (422, code)
    assert ACCOUNT not in refused.text


def test_bank_account_of_any_other_route_is_still_refused(client: TestClient, auth: Auth, world: World) -> None:
    elsewhere = client.post(
        "/v1/refunds/rfd_x/resolve",
        json={"status": "closed", "reason": "x", "bank_account": ACCOUNT},
        headers=auth("a.supervisor"),
    )
    assert (elsewhere.status_code, elsewhere.json()["code"]) == (422, "pan_detected")
    nested = client.post(
        "/v1/refunds/rfd_x/abnormal-refund",
        json={**application(), "bank_account": "", "extra": {"bank_account": ACCOUNT}},
        headers=auth("a.supervisor"),
    )
    assert (nested.status_code, nested.json()["code"]) == (422, "pan_detected")
