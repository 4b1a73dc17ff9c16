"""The case page's "退款至银行卡" for an abnormal WeChat Pay refund, on the real app, database and WeChat Pay
simulator: offered only to supervisors (and admins) on an abnormal WeChat case, refused with the API's status and
a Chinese message beside the field, the card number never shown again; sent, the case is processing again and the
worker takes it to succeeded."""

from __future__ import annotations

from typing import Any

from posrefund.demo import channels
from posrefund.service import execution, refunds
from posrefund.service.deps import Deps
from posrefund.service.refunds import RefundRequest
from tests.api.test_abnormal_refund_api import app, applications, drive, sims
from tests.conftest import FixedClock, World
from tests.support.helpers import new_sale

__all__ = ["app", "sims"]  # the app routed to the channel simulators
ACCOUNT = "6222021234567890128"
FORM = {
    "card_kind": "USER_BANK_CARD",
    "bank_type": "CCB_DEBIT",
    "bank_account": ACCOUNT,
    "real_name": "王五",
    "consent_by": "王五",
    "consent_how": "counter",
    "consent_at": "2026-11-20T09:45",
    "card_reason": "原卡已注销，顾客到柜台同意退至建行借记卡",
}


def abnormal(deps: Deps, world: World, sims: channels.Simulated, clock: FixedClock) -> Any:
    sale = new_sale(deps, world.a, channel="wechat", amount_fen=5_000)
    case = refunds.request_refund(
        deps, world.a.actors["cashier"], RefundRequest(sale_id=sale.id, amount_fen=1_500, reason="other")
    )
    sims.simulators["wechat"].set_fault(case.refund_no, "abnormal")
    assert drive(deps, sims, clock, world.a.id, case.id, "abnormal") == "abnormal"
    return case


def test_a_supervisor_sends_an_abnormal_refund_to_the_customers_card(
    deps: Deps, world: World, sims: channels.Simulated, clock: FixedClock, as_user: Any
) -> None:
    case = abnormal(deps, world, sims, clock)
    url = f"/console/cases/{case.id}/abnormal-refund"
    cashier = as_user("a.cashier")
    assert f'action="{url}"' not in cashier.get(f"/console/cases/{case.id}").text
    assert cashier.post(url, FORM).status_code == 403
    supervisor = as_user("a.supervisor")
    page = supervisor.get(f"/console/cases/{case.id}")
    assert f'action="{url}"' in page.text and "退款至银行卡" in page.text and "建设银行" in page.text

    no_consent = supervisor.post(url, {**FORM, "consent_by": ""})
    assert no_consent.status_code == 422 and "须登记顾客的同意" in no_consent.text
    bad_number = supervisor.post(url, {**FORM, "bank_account": "6222-abc"})
    assert bad_number.status_code == 422 and "银行卡号须为8至30位数字" in bad_number.text
    bad_name = supervisor.post(url, {**FORM, "real_name": ""})
    assert bad_name.status_code == 422 and ACCOUNT not in bad_name.text  # the number is typed anew, never echoed
    assert applications(sims.simulators["wechat"], case.refund_no) == 0

    done = supervisor.post(url, FORM, follow_redirects=False)
    assert (done.status_code, done.headers["location"]) == (303, f"/console/cases/{case.id}")
    shown = supervisor.get(f"/console/cases/{case.id}")
    assert "申请异常退款至银行卡" in shown.text and ACCOUNT not in shown.text
    assert f'action="{url}"' not in shown.text  # processing again: nothing more to apply
    execution.sweep(deps, sims.router)
    assert drive(deps, sims, clock, world.a.id, case.id, "succeeded") == "succeeded"
    assert applications(sims.simulators["wechat"], case.refund_no) == 1


def test_the_button_is_not_offered_on_a_card_sales_abnormal_case(
    deps: Deps, world: World, as_user: Any, sims: channels.Simulated
) -> None:
    sale = new_sale(deps, world.a, channel="card", amount_fen=5_000)
    case = refunds.request_refund(
        deps, world.a.actors["cashier"], RefundRequest(sale_id=sale.id, amount_fen=1_000, reason="other")
    )
    page = as_user("a.supervisor").get(f"/console/cases/{case.id}")
    assert "abnormal-refund" not in page.text
    refused = as_user("a.supervisor").post(f"/console/cases/{case.id}/abnormal-refund", FORM)
    assert refused.status_code == 409 and "只有微信支付的退款" in refused.text
