"""A provider onboards a merchant with its business licence's credit code and settlement account, and records a
new account later: the code's check character is checked (GB 32100-2015), the account number is kept only as
its last four and a keyed fingerprint — never in the database, the audit trail or the log, even when it is a
personal debit card's number — and another provider's administrator cannot reach the merchant."""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient

from posrefund.config import Settings
from posrefund.ports.records import AuditQuery
from posrefund.service.deps import Deps
from tests.api.conftest import Auth
from tests.conftest import World
from tests.security.probes import stored_nowhere
from tests.security.test_scopes import second_provider_admin

HUAWEI = "91440300708461136T"  # a real unified social credit code (深圳): its check character is T
DEBIT_CARD = "6222021234567890128"  # a Luhn-valid UnionPay debit card: an individual merchant's settlement account
ONBOARDING = {
    "code": "MSHOP",
    "name": "深圳小店",
    "licence_no": HUAWEI.lower(),
    "settlement_bank": "中国工商银行深圳分行",
    "settlement_account_name": "张三",
    "settlement_account_no": "6222 0212 3456 7890 128",
}


def _onboard(client: TestClient, headers: dict[str, str], **changes: Any) -> Any:
    return client.post("/v1/merchants", json={**ONBOARDING, **changes}, headers=headers)


def test_a_merchant_is_onboarded_with_its_licence_and_account_kept_as_last_four(
    client: TestClient, auth: Auth, deps: Deps, settings: Settings, backend: str
) -> None:
    made = _onboard(client, auth("provider"))
    assert made.status_code == 201, made.text
    body = made.json()
    shown = {k: body[k] for k in ("licence_no", "settlement_bank", "settlement_account_name")}
    assert shown == {"licence_no": HUAWEI, "settlement_bank": "中国工商银行深圳分行", "settlement_account_name": "张三"}
    assert body["settlement_account_masked"] == "****0128"
    assert "settlement_account_fingerprint" not in body and DEBIT_CARD not in made.text
    stored_nowhere(deps, settings, backend, DEBIT_CARD)


def test_a_wrong_check_character_or_account_is_refused_and_nothing_is_made(client: TestClient, auth: Auth) -> None:
    wrong = _onboard(client, auth("provider"), licence_no=HUAWEI[:17] + "X")
    assert (wrong.status_code, wrong.json()["code"]) == (422, "merchant.invalid_licence_no")
    assert wrong.json()["message"] == "统一社会信用代码无效：应为 18 位，且校验位正确"
    letters = _onboard(client, auth("provider"), settlement_account_no="6222-0212-ABCD")
    assert (letters.status_code, letters.json()["code"]) == (422, "merchant.invalid_account_no")
    assert letters.json()["message"] == "结算账号无效：应为 8 至 32 位数字"
    half = _onboard(client, auth("provider"), settlement_bank="")
    assert (half.status_code, half.json()["code"]) == (422, "request.field_required")
    card_in_name = _onboard(client, auth("provider"), name=f"小店 {DEBIT_CARD}")
    assert (card_in_name.status_code, card_in_name.json()["code"]) == (422, "pan_detected")
    assert _onboard(client, auth("provider"), code="MSHOP").status_code == 201  # the code was never taken


def test_a_new_settlement_account_is_recorded_with_its_reason_and_audited_masked(
    client: TestClient, auth: Auth, deps: Deps, world: World, settings: Settings, backend: str
) -> None:
    merchant = _onboard(client, auth("provider")).json()
    url = f"/v1/merchants/{merchant['id']}/settlement-account"
    new = {"bank": "招商银行", "holder": "张三", "account_no": "755912345610801", "reason": "原账户已销户，商户来函"}
    changed = client.put(url, json=new, headers=auth("provider"))
    assert changed.status_code == 200, changed.text
    assert (changed.json()["settlement_bank"], changed.json()["settlement_account_masked"]) == ("招商银行", "****0801")
    again = client.put(url, json={**new, "reason": "核对"}, headers=auth("provider"))
    assert again.status_code == 200
    with deps.uow(readonly=True) as uow:
        events = uow.audit.browse(merchant["id"], AuditQuery(action="merchant.settlement_account_changed"))
    said = [(e["before"], e["after"], json.loads(e["data"])["same_account"], e["reason"]) for e in reversed(events)]
    assert said == [
        ("****0128", "****0801", False, "原账户已销户，商户来函"),
        ("****0801", "****0801", True, "核对"),
    ]
    stored_nowhere(deps, settings, backend, "755912345610801")
    no_reason = client.put(url, json={**new, "reason": " "}, headers=auth("provider"))
    assert (no_reason.status_code, no_reason.json()["code"]) == (422, "request.field_required")


def test_another_providers_admin_and_the_merchants_own_admin_cannot_change_the_account(
    client: TestClient, auth: Auth, deps: Deps, world: World
) -> None:
    new = {"bank": "招商银行", "holder": "商户甲", "account_no": "755912345610801", "reason": "来函"}
    url = f"/v1/merchants/{world.a.id}/settlement-account"
    other = client.put(url, json=new, headers=second_provider_admin(client, deps))
    assert (other.status_code, other.json()["code"]) == (404, "merchant.not_found")
    own = client.put(url, json=new, headers=auth("a.admin"))
    assert own.status_code == 403
