"""A case's steps after review through the console, on the real app and database: each step shown only to the
roles that may take it, refused with the API's exact status for the others, CSRF-checked, a bad input a 4xx
with its Chinese message, and the case where the service left it (with its audit event)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from posrefund.adapters.calendar_cn import ChineseCalendar
from posrefund.domain.refund import RefundCase
from posrefund.service import execution, refunds
from posrefund.service.deps import Deps
from posrefund.service.execution import Router
from posrefund.service.refunds import CustomerInput, RefundRequest
from tests.conftest import World
from tests.support.fakes import FakeChannel
from tests.support.helpers import new_sale

SMALL = 500  # auto-approved in the test policy
LARGE = 20_000  # above the auto-approve limit: waits for review


def _router(fake: FakeChannel | None = None) -> Router:
    channels = {"wechat": fake} if fake is not None else {}
    return Router(channels=channels, is_workday=ChineseCalendar().is_workday, lease_margin=timedelta(0))  # type: ignore[arg-type]


def _ask(deps: Deps, world: World, amount: int = SMALL, who: str = "cashier", **sale: Any) -> RefundCase:
    s = new_sale(deps, world.a, **{"amount_fen": 50_000, **sale})
    req = RefundRequest(sale_id=s.id, amount_fen=amount, reason="other", customer=CustomerInput(phone="13812345678"))
    return refunds.request_refund(deps, world.a.actors[who], req)


def _status(deps: Deps, world: World, case_id: str) -> str:
    return refunds.get_case(deps, world.a.actors["auditor"], case_id).case.status.value


def _events(deps: Deps, world: World, case_id: str) -> list[Any]:
    return refunds.case_events(deps, world.a.actors["auditor"], case_id)


def _ended_with(deps: Deps, world: World, case_id: str, answer: str) -> RefundCase:
    """A wallet refund the channel answered ``answer`` (declined → failed, abnormal, unresolved → unknown)."""
    case = _ask(deps, world)
    fake = FakeChannel(script={case.refund_no: [answer]})
    execution.sweep(deps, _router(fake))
    return refunds.get_case(deps, world.a.actors["auditor"], case.id).case


def _cash_awaiting(deps: Deps, world: World) -> RefundCase:
    case = _ask(deps, world, channel="cash", payer_masked="")
    execution.sweep(deps, _router())  # the worker hands a cash refund to the till: processing, method cash
    return refunds.get_case(deps, world.a.actors["auditor"], case.id).case


def test_root_leads_to_sign_in_or_to_the_home_of_the_operator(browser: Any, as_user: Any) -> None:
    r = browser.get("/", follow_redirects=False)
    assert r.status_code == 302 and r.headers["location"] == "/console/"
    r = browser.get("/console/", follow_redirects=False)
    assert r.status_code == 302 and r.headers["location"] == "/console/login"
    cashier = as_user("a.cashier")
    assert cashier.get("/console/", follow_redirects=False).headers["location"] == "/console/home"
    assert str(cashier.get("/").url) == "http://testserver/console/home"


def test_a_cash_refund_is_labelled_cash_and_confirmed_by_a_second_person(
    deps: Deps, world: World, as_user: Any
) -> None:
    case = _cash_awaiting(deps, world)
    assert (case.status.value, case.method) == ("processing", "cash")
    cashier = as_user("a.cashier")
    page = cashier.get(f"/console/cases/{case.id}")
    assert "现金退款（收银台付现）" in page.text and "原路退回" not in page.text
    assert "确认付款" in page.text and "付款须由申请人以外的第二人确认" in page.text
    assert f'action="/console/cases/{case.id}/payout"' not in page.text  # the requester gets no button
    refused = cashier.post(f"/console/cases/{case.id}/payout", {"payout_reference": "T1"})
    assert refused.status_code == 403 and "付款须由申请人以外的第二人确认" in refused.text
    assert as_user("a.auditor").post(f"/console/cases/{case.id}/payout").status_code == 403
    assert as_user("a.risk").post(f"/console/cases/{case.id}/payout").status_code == 403
    assert _status(deps, world, case.id) == "processing"
    supervisor = as_user("a.supervisor")
    assert f'action="/console/cases/{case.id}/payout"' in supervisor.get(f"/console/cases/{case.id}").text
    done = supervisor.post(f"/console/cases/{case.id}/payout", {"payout_reference": "T1"}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == f"/console/cases/{case.id}"
    assert _status(deps, world, case.id) == "succeeded"
    last = _events(deps, world, case.id)[-1]
    assert (last["action"], last["actor_id"], last["reason"]) == (
        "refund.payout_confirmed",
        world.a.actors["supervisor"].id,
        "T1",
    )
    again = supervisor.post(f"/console/cases/{case.id}/payout")
    assert again.status_code == 409 and "该退款不在等待确认付款的状态（当前：退款成功）" in again.text


def test_the_steps_speak_english_on_the_switch(deps: Deps, world: World, as_user: Any) -> None:
    case = _cash_awaiting(deps, world)
    finance = as_user("a.finance")
    finance.client.cookies.set("prc_lang", "en", path="/console")
    page = finance.get(f"/console/cases/{case.id}").text
    for text in ("Confirm the payout", "Cash from the till", "Confirm it was paid"):
        assert text in page, text
    assert "Notify the customer again" not in page  # finance does not contact customers
    assert "确认付款" not in page and "现金退款" not in page
    refused = finance.post(f"/console/cases/{case.id}/payout", {"payout_reference": "长" * 65})
    assert refused.status_code == 422 and "Too long (at most 64 characters)" in refused.text


def test_the_desk_answer_of_a_cash_refund_never_says_original_route(deps: Deps, world: World, as_user: Any) -> None:
    cash = _ask(deps, world, channel="cash", payer_masked="")
    wallet = _ask(deps, world)
    cashier = as_user("a.cashier")
    page = cashier.get(f"/console/desk/answer/{cash.id}").text
    assert "已批准：现金退款" in page and "原路退回" not in page
    assert "已自动批准，正在原路退回" in cashier.get(f"/console/desk/answer/{wallet.id}").text
    case_page = cashier.get(f"/console/cases/{cash.id}").text  # approved, the worker has not chosen yet
    assert 'data-route="cash">现金退款（收银台付现）' in case_page and "原路退回" not in case_page


def test_every_step_checks_the_form_token(deps: Deps, world: World, as_user: Any) -> None:
    case = _ask(deps, world, LARGE)
    cashier = as_user("a.cashier")
    cashier.get(f"/console/cases/{case.id}")
    for step in ("cancel", "retry", "resolve", "reroute", "payout", "notify-again"):
        r = cashier.client.post(f"/console/cases/{case.id}/{step}", data={"csrf": "forged"})
        assert r.status_code == 403 and "表单已过期" in r.text, step
    assert _status(deps, world, case.id) == "pending_review"


def test_a_requester_withdraws_with_a_reason_others_are_refused(deps: Deps, world: World, as_user: Any) -> None:
    case = _ask(deps, world, LARGE)
    url = f"/console/cases/{case.id}/cancel"
    assert "撤回退款申请" not in as_user("a.customer_service").get(f"/console/cases/{case.id}").text
    assert as_user("a.finance").post(url, {"cancel_reason": "x"}).status_code == 403  # role may not
    assert as_user("a.auditor").post(url, {"cancel_reason": "x"}).status_code == 403
    not_mine = as_user("a.customer_service").post(url, {"cancel_reason": "x"})  # role may, but not someone else's
    assert not_mine.status_code == 403 and "只有申请人或主管可以撤回" in not_mine.text
    cashier = as_user("a.cashier")
    assert "撤回退款申请" in cashier.get(f"/console/cases/{case.id}").text
    too_long = cashier.post(url, {"cancel_reason": "长" * 501})
    assert too_long.status_code == 422 and "内容过长（最多 500 字）" in too_long.text
    assert _status(deps, world, case.id) == "pending_review"
    done = cashier.post(url, {"cancel_reason": "顾客改主意了"}, follow_redirects=False)
    assert done.status_code == 303
    assert _status(deps, world, case.id) == "cancelled"
    last = _events(deps, world, case.id)[-1]
    assert (last["action"], last["reason"]) == ("refund.cancelled", "顾客改主意了")
    assert cashier.post(url, {"cancel_reason": "again"}).status_code == 409


def test_a_failed_refund_is_sent_again_by_finance_or_a_supervisor(deps: Deps, world: World, as_user: Any) -> None:
    case = _ended_with(deps, world, "", "declined")
    assert case.status.value == "failed"
    url = f"/console/cases/{case.id}/retry"
    assert "重新发起退款" not in as_user("a.cashier").get(f"/console/cases/{case.id}").text
    assert as_user("a.cashier").post(url, {"retry_reason": "x"}).status_code == 403
    assert as_user("a.customer_service").post(url, {"retry_reason": "x"}).status_code == 403
    finance = as_user("a.finance")
    assert "重新发起退款" in finance.get(f"/console/cases/{case.id}").text
    done = finance.post(url, {"retry_reason": "顾客换了收款账户"}, follow_redirects=False)
    assert done.status_code == 303
    after = refunds.get_case(deps, world.a.actors["auditor"], case.id).case
    assert after.status.value == "processing" and after.refund_no != case.refund_no  # a wallet: a new number
    assert "refund.renumbered" in [e["action"] for e in _events(deps, world, case.id)]
    again = finance.post(url, {"retry_reason": "x"})
    assert again.status_code == 409 and "退款单当前状态为 退款中，不能变为 退款中" in again.text


@pytest.mark.parametrize("answer", ["abnormal", "unresolved"])
def test_an_abnormal_or_unknown_refund_is_settled_by_hand_with_a_reason(
    deps: Deps, world: World, as_user: Any, answer: str
) -> None:
    case = _ended_with(deps, world, "", answer)
    assert case.status.value == ("abnormal" if answer == "abnormal" else "unknown")
    url = f"/console/cases/{case.id}/resolve"
    assert as_user("a.cashier").post(url, {"outcome": "succeeded", "resolve_reason": "x"}).status_code == 403
    assert as_user("a.auditor").post(url, {"outcome": "succeeded", "resolve_reason": "x"}).status_code == 403
    supervisor = as_user("a.supervisor")
    page = supervisor.get(f"/console/cases/{case.id}").text
    assert "人工处理" in page and "已退款成功（有证明）" in page
    no_reason = supervisor.post(url, {"outcome": "succeeded", "resolve_reason": " "})
    assert no_reason.status_code == 422 and "必须填写原因" in no_reason.text
    bad = supervisor.post(url, {"outcome": "paid", "resolve_reason": "银行回单"})
    assert bad.status_code == 422 and "请选择列表中的一项" in bad.text
    assert _status(deps, world, case.id) == case.status.value
    done = supervisor.post(url, {"outcome": "succeeded", "resolve_reason": "银行回单 20261203"}, follow_redirects=False)
    assert done.status_code == 303
    assert _status(deps, world, case.id) == "succeeded"
    last = _events(deps, world, case.id)[-1]
    assert (last["action"], last["reason"], last["actor_id"]) == (
        "refund.resolved",
        "银行回单 20261203",
        world.a.actors["supervisor"].id,
    )
    timeline = supervisor.get(f"/console/cases/{case.id}").text
    assert "人工处理" in timeline and "银行回单 20261203" in timeline


def test_a_reroute_needs_a_reviewer_and_a_further_person_confirms_it(deps: Deps, world: World, as_user: Any) -> None:
    case = _ended_with(deps, world, "", "declined")
    url = f"/console/cases/{case.id}/reroute"
    assert as_user("a.finance").post(url, {"route": "cash", "reroute_reason": "x"}).status_code == 403
    assert as_user("a.cashier").post(url, {"route": "cash", "reroute_reason": "x"}).status_code == 403
    supervisor = as_user("a.supervisor")
    bad = supervisor.post(url, {"route": "bitcoin", "reroute_reason": "卡已注销"})
    assert bad.status_code == 422 and "请选择改道方式" in bad.text
    no_reason = supervisor.post(url, {"route": "cash", "reroute_reason": ""})
    assert no_reason.status_code == 422 and "必须填写原因" in no_reason.text
    done = supervisor.post(url, {"route": "cash", "reroute_reason": "卡已注销"}, follow_redirects=False)
    assert done.status_code == 303
    after = refunds.get_case(deps, world.a.actors["auditor"], case.id).case
    assert (after.status.value, after.method) == ("processing", "cash")
    page = supervisor.get(f"/console/cases/{case.id}").text
    assert "现金退款（收银台付现）" in page and "改道退款" in page
    same = supervisor.post(f"/console/cases/{case.id}/payout")
    assert same.status_code == 403 and "须由另一人确认" in same.text
    assert as_user("a.cashier").post(f"/console/cases/{case.id}/payout").status_code == 403  # the requester
    assert as_user("a.finance").post(f"/console/cases/{case.id}/payout", follow_redirects=False).status_code == 303
    assert _status(deps, world, case.id) == "succeeded"


def test_staff_notify_the_customer_again(deps: Deps, world: World, as_user: Any) -> None:
    case = _ask(deps, world, LARGE)
    url = f"/console/cases/{case.id}/notify-again"
    assert as_user("a.auditor").post(url).status_code == 403
    assert as_user("a.finance").post(url).status_code == 403
    cashier = as_user("a.cashier")
    done = cashier.post(url, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"].endswith("?notified=1")
    assert "已重新发送当前状态的通知" in cashier.get(done.headers["location"]).text
    with deps.uow(readonly=True) as uow:
        rows = uow.notifications.notifications_for(case.id)
    assert [r["event"] for r in rows if "again" in r["message_id"]] == ["pending_review"]
    assert _events(deps, world, case.id)[-1]["action"] == "notify.resent"
    no_phone = refunds.request_refund(
        deps,
        world.a.actors["cashier"],
        RefundRequest(sale_id=new_sale(deps, world.a, amount_fen=50_000).id, amount_fen=LARGE, reason="other"),
    )
    nothing = cashier.post(f"/console/cases/{no_phone.id}/notify-again")
    assert nothing.status_code == 422 and "没有可用的联系方式" in nothing.text


def test_another_merchants_case_is_not_found_for_every_step(deps: Deps, world: World, as_user: Any) -> None:
    case = _ask(deps, world, LARGE)
    other = as_user("b.supervisor")
    for step in ("cancel", "retry", "resolve", "reroute", "payout", "notify-again"):
        assert other.post(f"/console/cases/{case.id}/{step}", {"resolve_reason": "x"}).status_code == 404, step
    assert _status(deps, world, case.id) == "pending_review"
