"""Recording a hold at the counter from the console over HTTP (SQLite and PostgreSQL): a card 预授权 copied from
its slip (yuan, Beijing time, the card's last four; a whole card number refused by the card guard and never shown
back), a refused slip said beside its field in Chinese with nothing recorded, an Alipay freeze asked with the
payer's code on the Alipay simulator (the code never stored nor shown back), and the roles of ``hold.record``."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from posrefund.adapters.db import tables
from posrefund.service import fund_holds
from posrefund.service.deps import Deps
from tests.conftest import World
from tests.support.alipay_holds import PAYER_CODE, Alipay, alipay_line

NEW = "/console/holds/new"
PAN = "6222021234567890128"  # passes the Luhn check: a real-looking card number


@pytest.fixture
def alipay(app: FastAPI, deps: Deps, monkeypatch: pytest.MonkeyPatch) -> Iterator[Alipay]:
    with alipay_line(app, deps, monkeypatch) as line:
        yield line


def holds(deps: Deps) -> int:
    with deps.uow.engine.connect() as c:  # type: ignore[attr-defined]
        return int(c.execute(select(func.count()).select_from(tables.fund_holds)).scalar_one())


def slip(deps: Deps, world: World, **kw: str) -> dict[str, str]:
    """The 预授权 slip as the cashier copies it: made an hour ago, Beijing time."""
    made = (deps.clock.now() - timedelta(hours=1)).astimezone(ZoneInfo("Asia/Shanghai"))
    return {
        "terminal_id": world.a.terminal_id,
        "amount": "1,280.50",
        "held_at": made.strftime("%Y-%m-%dT%H:%M"),
        "batch_no": "000001",
        "voucher_no": "000123",
        "auth_code": "A1B2C3",
        "rrn": "310000001234",
        "card_last4": "5678",
        **kw,
    }


def test_a_card_pre_authorisation_recorded_from_its_slip(as_user: Any, deps: Deps, world: World) -> None:
    cashier = as_user("a.cashier")
    desk = cashier.get("/console/deposits").text
    assert f'href="{NEW}"' in desk and "登记预授权或资金冻结" in desk
    page = cashier.get(NEW)
    assert page.status_code == 200
    for words in (
        "银行卡预授权（按签购单登记）",
        "预授权金额（元）",
        "凭证号",
        "授权码",
        "参考号",
        "卡号后四位",
        "付款码",
    ):
        assert words in page.text
    assert "voucher_no" not in page.text.split("<main", 1)[1].replace('name="voucher_no"', "").replace(
        'id="f-voucher_no"', ""
    ).replace('for="f-voucher_no"', "")

    r = cashier.post(f"{NEW}/card", slip(deps, world), follow_redirects=False)
    assert r.status_code == 303, r.text
    hold_id = r.headers["location"].rsplit("/", 1)[1]
    hold, operations = fund_holds.get_hold(deps, world.a.actors["auditor"], hold_id)
    held = hold.held
    assert (held.channel, held.amount_fen, held.card_masked, held.voucher_no, held.auth_code, held.rrn) == (
        "card",
        128_050,
        "****5678",
        "000123",
        "A1B2C3",
        "310000001234",
    )
    assert held.held_at == (deps.clock.now() - timedelta(hours=1)).replace(second=0, microsecond=0)
    assert (hold.status.state.value, operations, hold.recorded_by) == ("held", [], world.a.actors["cashier"].id)
    shown = cashier.get(r.headers["location"]).text
    assert "¥1,280.50" in shown and "****5678" in shown

    # The same slip again is refused beside the voucher: recorded once.
    again = cashier.post(f"{NEW}/card", slip(deps, world))
    assert again.status_code == 409 and 'id="f-voucher_no-err"' in again.text and "该预授权已登记" in again.text
    assert holds(deps) == 1


def test_a_refused_slip_is_said_beside_its_field_and_records_nothing(as_user: Any, deps: Deps, world: World) -> None:
    cashier = as_user("a.cashier")
    cashier.get(NEW)
    card = cashier.post(f"{NEW}/card", slip(deps, world, card_last4=PAN))
    assert card.status_code == 422 and 'data-code="pan_detected"' in card.text and PAN not in card.text
    bad = cashier.post(f"{NEW}/card", slip(deps, world, voucher_no="12x"))
    assert bad.status_code == 422 and 'id="f-voucher_no-err"' in bad.text
    assert "预授权字段无效：凭证号" in bad.text and "12x" in bad.text  # shown again to correct
    amount = cashier.post(f"{NEW}/card", slip(deps, world, amount="12.345"))
    assert amount.status_code == 422 and 'id="f-amount-card-err"' in amount.text
    last4 = cashier.post(f"{NEW}/card", slip(deps, world, card_last4="567"))
    assert last4.status_code == 422 and "预授权字段无效：卡号后四位" in last4.text
    later = cashier.post(f"{NEW}/card", slip(deps, world, held_at="2099-01-01T10:00"))
    assert later.status_code == 422 and "预授权字段无效：预授权时间" in later.text
    theirs = cashier.post(f"{NEW}/card", slip(deps, world, terminal_id=world.b.terminal_id))
    assert theirs.status_code == 404 and 'id="f-terminal_id-card-err"' in theirs.text
    english = cashier.get(f"/console/lang?to=en&next={NEW}").text
    assert "Card pre-authorisation (from the terminal" in english and "Payment code" in english
    assert holds(deps) == 0


def test_who_may_record_a_hold(as_user: Any, deps: Deps, world: World) -> None:
    for who in ("a.finance", "a.auditor"):
        b = as_user(who)
        assert b.get(NEW).status_code == 403
        assert 'href="/console/holds/new"' not in b.get("/console/deposits").text
        assert b.post(f"{NEW}/card", slip(deps, world)).status_code == 403
    boss = as_user("a.supervisor")
    boss.get(NEW)
    assert boss.post(f"{NEW}/card", slip(deps, world), follow_redirects=False).status_code == 303
    assert holds(deps) == 1


def test_an_alipay_freeze_asked_with_the_payers_code(as_user: Any, deps: Deps, world: World, alipay: Alipay) -> None:
    cashier = as_user("a.cashier")
    cashier.get(NEW)
    ends = (deps.clock.now() + timedelta(days=3)).astimezone(ZoneInfo("Asia/Shanghai")).date()
    form = {
        "terminal_id": world.a.terminal_id,
        "amount": "300",
        "payer_code": PAYER_CODE,
        "title": "房间押金",
        "expires_on": ends.isoformat(),
    }
    bad = cashier.post(f"{NEW}/alipay", {**form, "payer_code": "1234"})
    assert bad.status_code == 422 and 'id="f-payer_code-err"' in bad.text and "预授权字段无效：付款码" in bad.text
    assert holds(deps) == 0

    r = cashier.post(f"{NEW}/alipay", form, follow_redirects=False)
    assert r.status_code == 303, r.text
    hold_id = r.headers["location"].rsplit("/", 1)[1]
    hold, operations = fund_holds.get_hold(deps, world.a.actors["auditor"], hold_id)
    assert (hold.held.channel, hold.held.amount_fen, hold.status.state.value) == ("alipay", 30_000, "held")
    assert hold.held.expires_at.astimezone(ZoneInfo("Asia/Shanghai")).date() == ends
    assert [(op.step.value, op.status.value) for op in operations] == [("hold", "succeeded")]
    assert alipay.freeze(hold.held.channel_hold_id)["total_freeze_fen"] == 30_000
    page = cashier.get(r.headers["location"]).text
    assert "¥300.00" in page and PAYER_CODE not in page and PAYER_CODE not in bad.text
