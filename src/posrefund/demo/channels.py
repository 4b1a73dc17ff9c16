"""The demo's channels: the three protocol simulators started in this process, and real adapters
pointed at them. Used by ``posrefund serve --with-simulators`` (``make serve``) and by end-to-end tests.

The simulators stand in for the acquirer host, WeChat Pay and Alipay, which know every payment they
processed; here they learn each original sale the first time posrefund refers to it (``_Registering``).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from posrefund.adapters.calendar_cn import ChineseCalendar
from posrefund.adapters.channels.acquirer.client import CardAcquirerChannel
from posrefund.adapters.channels.acquirer.journal import SqlTerminalJournal
from posrefund.adapters.channels.acquirer.messages import Terminal
from posrefund.adapters.channels.acquirer.transport import Link
from posrefund.adapters.channels.alipay.client import AlipayCallbackVerifier, AlipayChannel
from posrefund.adapters.channels.alipay.fund_auth import AlipayFundAuthChannel
from posrefund.adapters.channels.alipay.gateway import AlipayGateway
from posrefund.adapters.channels.wechatpay.client import WeChatPayCallbackVerifier, WeChatPayChannel
from posrefund.adapters.rate_limit import ChannelRateLimiter
from posrefund.domain.abnormal_refund import CardRefund
from posrefund.domain.channel import ChannelAnswer, Outcome, RefundOrder
from posrefund.ports import CallbackVerifier, PaymentChannel
from posrefund.ports.abnormal_refunds import AbnormalRefundChannel
from posrefund.service.execution import Router, card_method_rule
from posrefund.simulators.acquirer.server import DEMO_MAC_KEY, AcquirerSimulator
from posrefund.simulators.alipay.rules import DEFAULT_RATE_FAULTS as ALIPAY_RATE_FAULTS
from posrefund.simulators.alipay.server import AlipaySimulator
from posrefund.simulators.wechatpay.server import WeChatPaySimulator

DEMO_TMK = bytes.fromhex("0123456789ABCDEFFEDCBA9876543210")  # demo only: the simulator's terminal master key


@dataclass
class _Registering:
    """Tell the simulator about the original sale before asking it to refund it (demo only)."""

    inner: PaymentChannel
    register: Callable[[RefundOrder], None]
    known: set[str] = field(default_factory=set)
    name: str = ""

    def __post_init__(self) -> None:
        self.name = self.inner.name

    def _ensure(self, order: RefundOrder) -> None:
        """A refund naming the channel's own transaction (a charge only its file showed) is of a payment the
        channel already knows, or must refuse: nothing is registered for it."""
        key = order.sale.order_no or order.sale.rrn
        if order.sale.channel_trade_no:
            return
        if key not in self.known:
            self.register(order)
            self.known.add(key)

    def submit(self, order: RefundOrder) -> ChannelAnswer:
        self._ensure(order)
        return self.inner.submit(order)

    def query(self, order: RefundOrder) -> ChannelAnswer:
        self._ensure(order)
        return self.inner.query(order)

    def apply_abnormal_refund(self, refund: CardRefund) -> ChannelAnswer:
        """WeChat Pay's abnormal refund to a bank card, passed through (the refund it names is already known)."""
        inner = self.inner
        if not isinstance(inner, AbnormalRefundChannel):
            return ChannelAnswer(Outcome.DECLINED, code="NOT_SUPPORTED", message="no abnormal refunds here")
        return inner.apply_abnormal_refund(refund)


@dataclass
class Simulated:
    router: Router
    simulators: dict[str, Any]
    stack: ExitStack

    def close(self) -> None:
        self.stack.close()


def start(
    api_base_url: str,
    *,
    is_workday: Callable[..., bool] | None = None,
    wechat_port: int = 0,
    acquirer_port: int = 0,
    alipay_port: int = 0,
    fault_rate: float = 0.0,
    seed: int = 0,
    timeout: float = 5.0,
    clock: Callable[[], datetime] | None = None,
    wechat_faults: tuple[str, ...] = (),
    acquirer_faults: dict[str, float] | None = None,
    alipay_faults: tuple[str, ...] = (),
) -> Simulated:
    """``fault_rate`` > 0 injects faults into that share of requests (seeded): for tests and for trying
    posrefund's behaviour under a misbehaving channel."""
    stack = ExitStack()
    wechat = WeChatPaySimulator(
        port=wechat_port,
        notify_url=f"{api_base_url}/v1/callbacks/wechatpay",
        fault_rate=fault_rate,
        seed=seed,
        processing_queries=1,
        settle_after=2.0,
    )
    stack.enter_context(wechat)
    acquirer = AcquirerSimulator(
        DEMO_MAC_KEY,
        port=acquirer_port,
        fault_rates=acquirer_faults
        if acquirer_faults is not None
        else ({"no_answer_after_accept": fault_rate} if fault_rate else None),
        seed=seed,
        slow_seconds=timeout + 1,
    )
    stack.enter_context(acquirer)
    alipay = AlipaySimulator(
        port=alipay_port,
        fault_rate=fault_rate,
        seed=seed,
        settle_after=1.0,
        processing_queries=1,
        hang_seconds=timeout + 0.5,
        min_gap_same_trade=0.0,
        rate_faults=alipay_faults or ALIPAY_RATE_FAULTS,
    )
    stack.enter_context(alipay)
    calendar = ChineseCalendar()
    router = Router(
        channels=_channels(api_base_url, wechat, acquirer, alipay, timeout),
        is_workday=is_workday or calendar.is_workday,
        choose_card_method=card_method_rule(),
        verifiers=_verifiers(wechat, alipay, clock or (lambda: datetime.now(UTC))),
        overrides=calendar.overrides,
        may_call=ChannelRateLimiter(),
        holds={"alipay": _alipay_holds(alipay, timeout)},
    )
    return Simulated(router=router, simulators={"wechat": wechat, "card": acquirer, "alipay": alipay}, stack=stack)


def _alipay_holds(alipay: AlipaySimulator, timeout: float) -> AlipayFundAuthChannel:
    """Alipay freezes (资金授权) on the same simulated app and gateway as the refunds."""
    return AlipayFundAuthChannel(AlipayGateway(**_alipay_app(alipay, timeout)))


def _alipay_app(alipay: AlipaySimulator, timeout: float) -> dict[str, Any]:
    """The simulated Alipay app's keys and gateway, as both Alipay adapters take them."""
    return {
        "app_id": alipay.app_id,
        "app_private_key": alipay.app_private_key_pem,
        "alipay_public_key": alipay.alipay_public_key_pem,
        "gateway_url": alipay.gateway_url,
        "timeout": timeout,
    }


def _channels(
    api_base_url: str,
    wechat: WeChatPaySimulator,
    acquirer: AcquirerSimulator,
    alipay: AlipaySimulator,
    timeout: float,
) -> dict[str, PaymentChannel]:
    """posrefund's real channel adapters, pointed at the simulators, each telling its simulator about the sale."""
    host, port = acquirer.address
    wechat_channel = WeChatPayChannel(
        mchid=wechat.mchid,
        merchant_private_key=wechat.merchant_private_key_pem,
        merchant_serial_no=wechat.merchant_serial_no,
        platform_public_key=wechat.platform_public_key_pem,
        platform_public_key_id=wechat.platform_public_key_id,
        apiv3_key=wechat.apiv3_key,
        base_url=wechat.base_url,
        notify_url=f"{api_base_url}/v1/callbacks/wechatpay",
        timeout=timeout,
    )
    card_channel = CardAcquirerChannel(
        Link(host, port, destination=b"\x00\x06", source=b"\x00\x00", timeout=timeout),
        DEMO_TMK,
        Terminal("00000001", "898310000000001"),
        SqlTerminalJournal.in_temporary_file(),
    )
    alipay_channel = AlipayChannel(**_alipay_app(alipay, timeout))
    alipay_notify = f"{api_base_url}/v1/callbacks/alipay"

    def alipay_register(order: RefundOrder) -> None:
        alipay.add_payment(
            order.sale.order_no, order.sale.amount_fen, paid_at=order.sale.paid_at, notify_url=alipay_notify
        )

    def wechat_register(order: RefundOrder) -> None:
        wechat.add_payment(order.sale.order_no, order.sale.amount_fen, paid_at=order.sale.paid_at)

    def card_register(order: RefundOrder) -> None:
        _register_card(acquirer, order)

    return {
        "wechat": _Registering(wechat_channel, wechat_register),
        "card": _Registering(card_channel, card_register),
        # UnionPay QR (云闪付) payments are acquired like cards: their refunds go to the acquirer host as 退货.
        "unionpay_qr": _Registering(card_channel, card_register),
        "alipay": _Registering(alipay_channel, alipay_register),
    }


def _register_card(acquirer: AcquirerSimulator, order: RefundOrder) -> None:
    """The acquirer host knows a card payment by its reference, authorisation, voucher and batch numbers."""
    s = order.sale
    acquirer.add_payment(
        s.rrn.zfill(12),
        s.auth_code.zfill(6) if s.auth_code else "000000",
        s.voucher_no.zfill(6),
        s.batch_no.zfill(6),
        s.amount_fen,
        s.paid_at,
        s.terminal_no,
        settled=s.settled,
    )


def _verifiers(
    wechat: WeChatPaySimulator, alipay: AlipaySimulator, now: Callable[[], datetime]
) -> dict[str, CallbackVerifier]:
    """The checks of the signed callbacks the WeChat Pay and Alipay simulators send."""
    return {
        "wechat": WeChatPayCallbackVerifier(
            platform_public_key=wechat.platform_public_key_pem,
            platform_public_key_id=wechat.platform_public_key_id,
            apiv3_key=wechat.apiv3_key,
            mchid=wechat.mchid,
            clock=now,
        ),
        "alipay": AlipayCallbackVerifier(
            alipay_public_key=alipay.alipay_public_key_pem, app_id=alipay.app_id, clock=now
        ),
    }
