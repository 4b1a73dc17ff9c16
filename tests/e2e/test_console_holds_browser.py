"""A hotel's check-out in a real browser, on a 390 px phone and a 1280 px screen: the guest's card 预授权 made at
check-in on the acquirer simulator, the front desk finds it by the slip's voucher, completes it for the final
bill (below the authorised amount), the worker executes the completion against the simulator, and the page
shows 已完成 with the sale the completion became. Nothing scrolls sideways; controls are fingertip-sized on the
phone; no page breaks the Content-Security-Policy."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, expect

from posrefund import bootstrap
from posrefund.domain.fund_hold import completion_ceiling
from posrefund.entrypoints.console.fmt import yuan, yuan_input
from posrefund.service import fund_holds
from posrefund.service.fund_holds import CardHoldInput
from tests.e2e.conftest import Live
from tests.e2e.test_console_deposits_browser import WIDTHS, fits
from tests.e2e.test_console_shift_browser import person
from tests.support.card_holds import Card, card_host


@pytest.fixture(scope="module")
def card(live: Live) -> Iterator[Card]:
    """One acquirer simulator for the module: its traces (the slips' vouchers) run on from one walk to the next."""
    with card_host(bootstrap.engine_of(live.deps), live.deps.clock) as running:  # type: ignore[arg-type]
        yield running


ROOM_HOLD = {390: 200_000, 1280: 300_000}  # fen authorised at check-in; the final bill is ¥1,386.00 on both


def held_for_the_walk(live: Live) -> str:
    """For the page walk: a room's 预授权 recorded from its slip 28 days ago (its validity ends within the
    warning window); its id."""
    a, deps = live.world.a, live.deps
    slip = CardHoldInput(
        terminal_id=a.terminal_id, amount_fen=150_000, held_at=deps.clock.now() - timedelta(days=28),
        rrn="310042000001", auth_code="K7P2Q9", voucher_no="004200", batch_no="000003",
        card_masked="622848******5678",
    )  # fmt: skip
    return fund_holds.record_card_hold(deps, a.actors["cashier"], slip).id


@pytest.mark.parametrize("width", WIDTHS)
def test_a_hotel_completes_the_preauthorisation_at_check_out(
    chromium: Browser, live: Live, card: Card, width: int
) -> None:
    a, deps = live.world.a, live.deps
    authorised = ROOM_HOLD[width]  # the simulator's terminal keys each 预授权 by its amount: one per walk
    hold = fund_holds.record_card_hold(deps, a.actors["cashier"], card.slip(live.world, authorised))
    ceiling = yuan(completion_ceiling(hold.held))
    with person(chromium, live, "a.cashier", str(width)) as page:
        page.goto(live.url("/console/deposits"))
        expect(page.get_by_role("heading", name="预授权和资金冻结", exact=True)).to_be_visible()
        fits(page, width, live, "61-hold-list")
        page.get_by_label("凭证号或订单号").fill(hold.held.voucher_no)
        page.get_by_role("button", name="查找", exact=True).click()
        expect(page.get_by_role("heading", name=f"银行卡预授权 · {yuan(authorised)} · 冻结中")).to_be_visible()
        expect(page.get_by_text(ceiling, exact=True)).to_be_visible()  # the ceiling: 115 %
        page.get_by_label("完成金额（元）").fill(yuan_input(completion_ceiling(hold.held) + 1))
        page.get_by_role("button", name="完成", exact=True).click()
        expect(page.get_by_text(f"超过可完成的上限 {ceiling}").first).to_be_visible()
        page.get_by_label("完成金额（元）").fill("1386.00")
        page.get_by_role("button", name="完成", exact=True).click()
        expect(page.get_by_text("操作已提交，正在处理，请稍后刷新本页查看结果。")).to_be_visible()
        expect(page.get_by_role("cell", name="排队中")).to_be_visible()
        fits(page, width, live, "61-hold-asked")
        assert fund_holds.sweep_holds(deps, card.worker) >= 1
        page.reload()
        expect(page.get_by_role("heading", name=f"银行卡预授权 · {yuan(authorised)} · 已完成")).to_be_visible()
        expect(page.get_by_role("cell", name="成功")).to_be_visible()
        fits(page, width, live, "61-hold-completed")
        page.get_by_role("link", name="查看完成后的消费").click()
        expect(page.get_by_text("¥1,386.00").first).to_be_visible()
    assert len(card.live(hold.held.rrn, "complete")) == 1


SLIP_HOLD = {390: 120_000, 1280: 130_000}  # fen on the slips the front desk copies (one 预授权 per amount)


@pytest.mark.parametrize("width", WIDTHS)
def test_the_front_desk_records_a_preauthorisation_from_its_slip(
    chromium: Browser, live: Live, card: Card, width: int
) -> None:
    """The terminal made the 预授权; the cashier copies its slip into the console (the card's last four only),
    lands on the hold's page, and the completion the worker executes reaches the acquirer with its references."""
    slip = card.slip(live.world, SLIP_HOLD[width])
    held_at = slip.held_at.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%dT%H:%M")
    with person(chromium, live, "a.cashier", str(width)) as page:
        page.goto(live.url("/console/deposits"))
        page.get_by_role("link", name="登记预授权或资金冻结").click()
        expect(page.get_by_role("heading", name="登记预授权或资金冻结", exact=True)).to_be_visible()
        form = page.locator('form[action$="/holds/new/card"]')
        form.get_by_label("终端").select_option(slip.terminal_id)
        form.get_by_label("预授权金额（元）").fill(yuan_input(slip.amount_fen))
        form.get_by_label("交易时间（北京时间）").fill(held_at)
        for label, value in (("批次号", slip.batch_no), ("凭证号", slip.voucher_no), ("授权码", slip.auth_code)):
            form.get_by_label(label).fill(value)
        form.get_by_label("参考号").fill(slip.rrn)
        form.get_by_label("卡号后四位").fill("1234")
        fits(page, width, live, "62-hold-new")
        form.get_by_role("button", name="登记预授权", exact=True).click()
        expect(page.get_by_role("heading", name=f"银行卡预授权 · {yuan(slip.amount_fen)} · 冻结中")).to_be_visible()
        expect(page.get_by_text("****1234").first).to_be_visible()
        page.get_by_label("完成金额（元）").fill("880.00")
        page.get_by_role("button", name="完成", exact=True).click()
        expect(page.get_by_text("操作已提交，正在处理，请稍后刷新本页查看结果。")).to_be_visible()
        assert fund_holds.sweep_holds(live.deps, card.worker) >= 1
        page.reload()
        expect(page.get_by_role("heading", name=f"银行卡预授权 · {yuan(slip.amount_fen)} · 已完成")).to_be_visible()
        fits(page, width, live, "62-hold-recorded-completed")
    assert len(card.live(slip.rrn, "complete")) == 1
