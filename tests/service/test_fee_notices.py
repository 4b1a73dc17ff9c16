"""The merchant told of its fee refund's steps through the notification gateways: a one-off device charge
given back is opened, approved and paid to the settlement account — one SMS and one email each, the amount in
yuan and the transfer reference; a refused request tells the computation that refused it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest

from posrefund.adapters.notifiers.email_smtp import SmtpSender
from posrefund.domain.fee_charges import ChargeTerms, OneOffCharge
from posrefund.service import fees
from posrefund.service.deps import Deps
from posrefund.service.notifications import sending
from posrefund.service.notifications.merchant_contact import MerchantContactInput, set_merchant_contact
from posrefund.service.notifications.sending import NotifyRouter
from tests.conftest import FixedClock, World
from tests.integration.test_notify_email import Inbox, smtp  # noqa: F401  (the real SMTP server)
from tests.support.notifications import GatewayServer, gateway_server, sms_gateway


@pytest.fixture
def sms() -> Iterator[GatewayServer]:
    with gateway_server() as gw:
        yield gw


def charge(deps: Deps, world: World, kind: str, terms: ChargeTerms) -> OneOffCharge:
    new = OneOffCharge("", world.a.id, kind, 9_900, date(2026, 11, 15), date(2026, 11, 15), terms)
    return fees.record_charge(deps, world.provider, new)


def test_a_charge_given_back_is_told_at_each_step(
    deps: Deps,
    world: World,
    clock: FixedClock,
    sms: GatewayServer,
    smtp: tuple[Inbox, int],  # noqa: F811
) -> None:
    inbox, port = smtp
    boss, fin = world.a.actors["admin"], world.a.actors["finance"]
    set_merchant_contact(deps, boss, world.a.id, MerchantContactInput("138 0013 8000", "cfo@a.example"))
    device = charge(deps, world, "device", ChargeTerms("device_return", within_days=7))
    _decision, case = fees.request_charge_refund(deps, fin, world.a.id, device.id, date(2026, 11, 20))
    fees.approve(deps, boss, world.a.id, case.id)
    fees.pay(deps, world.provider, world.a.id, case.id, "CMB202611300001")
    volume = charge(deps, world, "activation", ChargeTerms("volume", volume_fen=5_000_000, within_days=90))
    _refused, no = fees.request_charge_refund(deps, fin, world.a.id, volume.id)

    router = NotifyRouter(
        gateways={"sms": sms_gateway(sms), "email": SmtpSender(host="127.0.0.1", port=port, sender="fees@p.example")}
    )
    sending.sweep(deps, router)
    sending.sweep(deps, router)
    texts = {a.message_id: a.body["content"] for a in sms.delivered.values()}
    assert {a.body["mobile"] for a in sms.delivered.values()} == {"13800138000"}
    assert sorted(texts) == sorted(
        [f"prn-{case.id}-{step}-sms" for step in ("opened", "approved", "paid")] + [f"prn-{no.id}-rejected-sms"]
    )
    assert texts[f"prn-{case.id}-paid-sms"] == (
        f"商户 MA：一次性费用退还（编号 {case.id}）¥99.00 已于 2026-11-20 10:00 转入您的结算账户，"
        "转账凭证号 CMB202611300001。"
    )
    assert "¥99.00" in texts[f"prn-{case.id}-opened-sms"] and "已批准" in texts[f"prn-{case.id}-approved-sms"]
    assert "尚差" in texts[f"prn-{no.id}-rejected-sms"]  # the computation that refused it
    subjects = sorted(str(m["Subject"]) for _f, rcpt, m in inbox.messages if rcpt == ["cfo@a.example"])
    assert subjects == sorted(["退费申请已受理", "退费已批准", "退费已转账", "退费申请未通过"])
    assert len(inbox.messages) == 4
