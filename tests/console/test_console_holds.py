"""The holds pages of the console over HTTP (SQLite and PostgreSQL), with the card terminal adapter and the
acquirer simulator behind the worker: the open 预授权 on the deposits page with the expiry warning, the counter's
lookup by voucher, a completion for the final bill executed by the worker and its sale linked, the refusals
(above the ceiling, after expiry, release after completion) shown in plain Chinese with nothing queued, the roles
of the permissions table, and another merchant's hold unseen."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from posrefund.adapters.db import tables
from posrefund.ports.fund_holds import HoldRecord
from posrefund.service import fund_holds
from posrefund.service.deps import Deps
from posrefund.service.fund_holds import CardHoldInput
from tests.conftest import FixedClock, World
from tests.support.card_holds import Card, card_host


@pytest.fixture
def card(engine: Engine, clock: FixedClock) -> Iterator[Card]:
    with card_host(engine, clock) as running:
        yield running


def made_days_ago(deps: Deps, world: World, days: int, voucher: str, amount_fen: int = 50_000) -> HoldRecord:
    """A 预授权 recorded from its slip ``days`` ago (nothing sent to a host: the page and the rules only)."""
    inp = CardHoldInput(
        terminal_id=world.a.terminal_id, amount_fen=amount_fen, held_at=deps.clock.now() - timedelta(days=days),
        rrn=f"31{voucher}0000", auth_code="A1B2C3", voucher_no=voucher, batch_no="000001",
        card_masked="622848******5678",
    )  # fmt: skip
    return fund_holds.record_card_hold(deps, world.a.actors["cashier"], inp)


def made_on_card(deps: Deps, world: World, card: Card, amount_fen: int = 10_000) -> HoldRecord:
    """A 预授权 the terminal made on the simulator, recorded as the front desk would."""
    return fund_holds.record_card_hold(deps, world.a.actors["cashier"], card.slip(world, amount_fen))


def operations(deps: Deps) -> int:
    with deps.uow.engine.connect() as c:  # type: ignore[attr-defined]
        return int(c.execute(select(func.count()).select_from(tables.fund_hold_operations)).scalar_one())


def test_open_holds_listed_with_the_expiry_warning_and_found_by_voucher(
    as_user: Any, deps: Deps, world: World, card: Card
) -> None:
    fresh = made_on_card(deps, world, card, 80_000)
    ending = made_days_ago(deps, world, 28, "000777")
    cashier = as_user("a.cashier")
    page = cashier.get("/console/deposits")
    assert page.status_code == 200
    section = page.text.split("预授权和资金冻结", 1)[1]
    assert section.count("银行卡预授权") == 2 and section.count("冻结中") == 2
    assert "¥800.00" in section and "¥500.00" in section and "622202******1234" in section
    assert section.count("即将到期") == 1 and section.count('class="overdue"') == 1
    assert f'href="/console/holds/{fresh.id}"' in section and f'href="/console/holds/{ending.id}"' in section

    found = cashier.get(f"/console/deposits?q={fresh.held.voucher_no}", follow_redirects=False)
    assert (found.status_code, found.headers["location"]) == (303, f"/console/holds/{fresh.id}")
    unpadded = cashier.get("/console/deposits?q=777", follow_redirects=False)
    assert (unpadded.status_code, unpadded.headers["location"]) == (303, f"/console/holds/{ending.id}")
    assert "未找到该凭证号或订单号的消费。" in cashier.get("/console/deposits?q=NOPE0001").text

    hold_page = cashier.get(f"/console/holds/{ending.id}")
    assert hold_page.status_code == 200
    assert "即将到期" in hold_page.text and "参考号</dt><dd>********0000" in hold_page.text
    assert "310007770000" not in hold_page.text and "622848******5678" in hold_page.text


def test_front_desk_completes_for_the_final_bill_and_the_worker_executes_it(
    as_user: Any, deps: Deps, world: World, card: Card
) -> None:
    hold = made_on_card(deps, world, card, 10_000)
    cashier = as_user("a.cashier")
    page = cashier.get(f"/console/holds/{hold.id}")
    assert page.status_code == 200
    text = page.text
    assert "银行卡预授权 · ¥100.00 · 冻结中" in text and "最多可完成</dt><dd>¥115.00" in text
    assert hold.held.auth_code in text and hold.held.voucher_no in text and hold.held.rrn not in text
    assert f'action="/console/holds/{hold.id}/complete"' in text and f"/holds/{hold.id}/release" in text
    assert "cancel-completion" not in text and "还没有操作。" in text

    above = cashier.post(f"/console/holds/{hold.id}/complete", {"amount": "115.01"})
    assert above.status_code == 422
    assert "完成金额 ¥115.01超过可完成的上限 ¥115.00（预授权金额加上卡组织允许的比例）" in above.text
    assert 'value="115.01"' in above.text and operations(deps) == 0
    junk = cashier.post(f"/console/holds/{hold.id}/complete", {"amount": "八十"})
    assert junk.status_code == 422 and "请输入正确的金额（元，最多两位小数）" in junk.text and operations(deps) == 0

    asked = cashier.post(f"/console/holds/{hold.id}/complete", {"amount": "86.50"}, follow_redirects=False)
    assert (asked.status_code, asked.headers["location"]) == (303, f"/console/holds/{hold.id}")
    waiting = cashier.get(f"/console/holds/{hold.id}").text
    assert "操作已提交，正在处理，请稍后刷新本页查看结果。" in waiting and "排队中" in waiting and "¥86.50" in waiting
    assert f"/holds/{hold.id}/complete" not in waiting and f"/holds/{hold.id}/release" not in waiting
    again = cashier.post(f"/console/holds/{hold.id}/release", {})
    assert again.status_code == 409 and "该预授权还有一项操作在处理中，请等它有结果后再操作" in again.text

    assert fund_holds.sweep_holds(deps, card.worker) == 1
    done_hold, _ = fund_holds.get_hold(deps, world.a.actors["auditor"], hold.id)
    done = cashier.get(f"/console/holds/{hold.id}").text
    assert "银行卡预授权 · ¥100.00 · 已完成" in done and "成功" in done and "已完成金额</dt><dd>¥86.50" in done
    assert f'href="/console/sales/{done_hold.sale_id}">查看完成后的消费</a> · ¥86.50' in done
    assert cashier.get(f"/console/sales/{done_hold.sale_id}").status_code == 200
    assert len(card.live(hold.held.rrn, "complete")) == 1

    late = cashier.post(f"/console/holds/{hold.id}/release", {})
    assert late.status_code == 409 and "该预授权已完成，不能再撤销；如需退钱，请对完成的交易发起退货" in late.text
    assert operations(deps) == 1
    assert cashier.post(f"/console/holds/{hold.id}/cancel-completion", {}).status_code == 403
    supervisor = as_user("a.supervisor")
    assert f'action="/console/holds/{hold.id}/cancel-completion"' in supervisor.get(f"/console/holds/{hold.id}").text
    undo = supervisor.post(f"/console/holds/{hold.id}/cancel-completion", {}, follow_redirects=False)
    assert undo.status_code == 303 and operations(deps) == 2
    fund_holds.sweep_holds(deps, card.worker)
    back = cashier.get(f"/console/holds/{hold.id}").text
    assert "银行卡预授权 · ¥100.00 · 冻结中" in back and "预授权完成撤销" in back


def test_release_and_the_expired_hold_refused(as_user: Any, deps: Deps, world: World, card: Card) -> None:
    hold = made_on_card(deps, world, card, 20_000)
    old = made_days_ago(deps, world, 31, "000888")
    cashier = as_user("a.cashier")
    expired = cashier.get(f"/console/holds/{old.id}").text
    assert "银行卡预授权 · ¥500.00 · 已过期" in expired and f"/holds/{old.id}/complete" not in expired
    refused = cashier.post(f"/console/holds/{old.id}/complete", {"amount": "100.00"})
    assert refused.status_code == 409
    assert "该预授权已过有效期，发卡行已自动解冻，不能再完成或撤销" in refused.text and operations(deps) == 0

    cashier.get(f"/console/holds/{hold.id}")
    let_go = cashier.post(f"/console/holds/{hold.id}/release", {}, follow_redirects=False)
    assert let_go.status_code == 303
    fund_holds.sweep_holds(deps, card.worker)
    released = cashier.get(f"/console/holds/{hold.id}").text
    assert "银行卡预授权 · ¥200.00 · 已撤销" in released and "预授权撤销" in released
    assert f"/holds/{hold.id}/complete" not in released and len(card.live(hold.held.rrn, "release")) == 1


def test_roles_csrf_and_another_merchants_hold(as_user: Any, deps: Deps, world: World, card: Card) -> None:
    hold = made_days_ago(deps, world, 1, "000123")
    auditor = as_user("a.auditor")
    seen = auditor.get(f"/console/holds/{hold.id}")
    assert seen.status_code == 200 and "/complete" not in seen.text and "/release" not in seen.text
    refused = auditor.post(f"/console/holds/{hold.id}/complete", {"amount": "10.00"})
    assert refused.status_code == 403 and "当前角色（审计）无权执行此操作：预授权完成" in refused.text
    assert auditor.post(f"/console/holds/{hold.id}/release", {}).status_code == 403

    cashier = as_user("a.cashier")
    cashier.get(f"/console/holds/{hold.id}")
    cashier.csrf = "forged"
    forged = cashier.post(f"/console/holds/{hold.id}/release", {})
    assert forged.status_code == 403 and "表单已过期，请刷新页面后重试" in forged.text and operations(deps) == 0
    assert cashier.post(f"/console/holds/{hold.id}/nothing", {}).status_code == 404

    other = as_user("b.supervisor")
    assert other.get(f"/console/holds/{hold.id}").status_code == 404
    assert other.post(f"/console/holds/{hold.id}/release", {}).status_code == 404
    assert "000123" not in other.get("/console/deposits").text
    english = auditor.get(f"/console/lang?to=en&next=/console/holds/{hold.id}").text
    assert "Card pre-authorisation · ¥500.00 · Held" in english and "Most a completion may take" in english
    assert other.get("/console/deposits?q=000123", follow_redirects=False).status_code == 200
    assert operations(deps) == 0
