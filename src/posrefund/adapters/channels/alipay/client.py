"""Alipay refunds through the OpenAPI gateway with ``python-alipay-sdk``, and Alipay's refund notifications.

The library signs our requests with the app's private key (RSA2) and verifies Alipay's signature on every
signed answer. It has no base-URL setting, so the gateway is set in exactly one place below
(``AlipayChannel.__init__``). Amounts travel as yuan strings with two decimals, made from fen with integers.

What the answers mean for a refund (and the fen ↔ yuan amounts) is in ``mapping``.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from posrefund.adapters.channels.alipay.certs import CertificateMode
from posrefund.adapters.channels.alipay.gateway import PRODUCTION_GATEWAY, AlipayGateway, pem_of
from posrefund.adapters.channels.alipay.mapping import (
    DEPOSIT_BACK,
    beijing_time,
    deposit_back_answer,
    fen_to_yuan,
    query_outcome,
    refund_outcome,
    trade_notice_answer,
)
from posrefund.adapters.channels.common import REASON_TEXT, utc_now
from posrefund.domain.channel import CallbackNotice, CallbackRejected, ChannelAnswer, Outcome, RefundOrder

_REFUND = "alipay.trade.refund"
_QUERY = "alipay.trade.fastpay.refund.query"


def _reason_text(reason: str) -> str:
    """Shown in the merchant's and the payer's bill details (``refund_reason``, ≤ 256 characters)."""
    return REASON_TEXT.get(reason, reason)[:256]


class AlipayChannel:
    """``PaymentChannel`` for sales paid with Alipay: ``refund_no`` travels as ``out_request_no``, the sale's
    ``order_no`` as ``out_trade_no``.

    ``timeout`` (seconds) bounds connecting and every read of a call: past it the answer is UNKNOWN and the
    worker queries (or resubmits the same number and amount) later. ``clock`` stamps the request ``timestamp``.
    ``certificate``: public-key-certificate mode (every request carries ``app_cert_sn`` and
    ``alipay_root_cert_sn``; ``alipay_public_key`` is then the key of Alipay's certificate).
    """

    name = "alipay"

    def __init__(
        self,
        *,
        app_id: str,
        app_private_key: str,
        alipay_public_key: str,
        gateway_url: str = PRODUCTION_GATEWAY,
        timeout: float = 5.0,
        clock: Callable[[], datetime] = utc_now,
        certificate: CertificateMode | None = None,
    ) -> None:
        self._call = AlipayGateway(
            app_id=app_id,
            app_private_key=app_private_key,
            alipay_public_key=alipay_public_key,
            gateway_url=gateway_url,
            timeout=timeout,
            clock=clock,
            certificate=certificate,
        ).call

    def submit(self, order: RefundOrder) -> ChannelAnswer:
        """``alipay.trade.refund``; the same ``out_request_no`` and amount again refunds once ("只会退一次")."""
        if order.currency != "CNY" or order.amount_fen <= 0:
            return ChannelAnswer(
                Outcome.DECLINED, code="posrefund.invalid_order", message="Alipay refunds take a positive CNY amount"
            )
        biz = {
            **_trade_of(order),
            "refund_amount": fen_to_yuan(order.amount_fen),
            "out_request_no": order.refund_no,
            "refund_reason": _reason_text(order.reason),
        }
        reply = self._call(_REFUND, biz)
        if isinstance(reply, ChannelAnswer):
            return reply
        return refund_outcome(*reply, order)

    def query(self, order: RefundOrder) -> ChannelAnswer:
        """``alipay.trade.fastpay.refund.query`` by ``out_trade_no`` + ``out_request_no``. Never sends anything
        itself: an answer without ``refund_status`` ("not received, or failed") is NOT_FOUND, on which the worker
        sends the refund again with the same number and amount (Alipay refunds a number at most once)."""
        biz = {
            **_trade_of(order),
            "out_request_no": order.refund_no,
            "query_options": ["gmt_refund_pay"],
        }
        reply = self._call(_QUERY, biz)
        if isinstance(reply, ChannelAnswer):
            return reply
        return query_outcome(*reply, order)


class AlipayCallbackVerifier:
    """``CallbackVerifier`` for Alipay's form-encoded notifications (headers play no part): the trade notify
    that follows a refund (``out_biz_no`` = our ``out_request_no``) and the bank-card deposit-back message.

    Checks, in order: a readable form, ``sign`` present and ``sign_type`` RSA2, the RSA2 signature with the
    **Alipay** public key over every other non-empty field sorted by name, the ``app_id`` (when configured), and
    the ``seller_id`` (when configured: the merchant's 2088… partner id), and the send time (``notify_time`` /
    ``utc_timestamp``) within ``max_age`` of ``clock()``. Anything else raises ``CallbackRejected``. Alipay expects
    the plain-text answer ``success`` once a notification is taken. In certificate mode ``alipay_public_key`` is
    the key of Alipay's certificate.
    """

    def __init__(
        self,
        *,
        alipay_public_key: str,
        app_id: str = "",
        seller_id: str = "",
        clock: Callable[[], datetime] = utc_now,
        max_age: timedelta = timedelta(minutes=15),
    ) -> None:
        key = serialization.load_pem_public_key(pem_of(alipay_public_key, private=False).encode("ascii"))
        if not isinstance(key, rsa.RSAPublicKey):
            raise ValueError("the Alipay public key must be an RSA public key")
        self._key = key
        self._app_id = app_id
        self._seller_id = seller_id
        self._clock = clock
        self._max_age = max_age

    def verify(self, headers: dict[str, str], body: bytes) -> CallbackNotice:
        params = _read_form(body)
        sign = params.pop("sign", "")
        sign_type = params.pop("sign_type", "RSA2")
        if not sign:
            raise CallbackRejected("missing sign")
        if sign_type != "RSA2":
            raise CallbackRejected(f"unsupported sign_type {sign_type!r}")
        content = "&".join(f"{k}={v}" for k, v in sorted(params.items()) if v != "")
        try:
            signature = base64.b64decode(sign, validate=True)
            self._key.verify(signature, content.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())
        except (InvalidSignature, binascii.Error, ValueError):
            raise CallbackRejected("bad signature") from None
        if self._app_id and params.get("app_id") != self._app_id:
            raise CallbackRejected("notification for another app")
        if params.get("msg_method"):
            return self._deposit_back(params)
        return self._trade_notice(params)

    def _fresh(self, sent_at: datetime | None) -> None:
        if sent_at is None:
            raise CallbackRejected("missing or malformed send time")
        if abs(self._clock() - sent_at) > self._max_age:
            raise CallbackRejected("stale or future notification")

    def _trade_notice(self, params: dict[str, str]) -> CallbackNotice:
        self._fresh(beijing_time(params.get("notify_time")))
        if self._seller_id and params.get("seller_id") != self._seller_id:
            raise CallbackRejected("notification for another seller")
        refund_no, notice_id, trade_no = params.get("out_biz_no"), params.get("notify_id"), params.get("trade_no")
        if not refund_no or params.get("refund_fee") in (None, ""):
            raise CallbackRejected("not a refund notification (no out_biz_no / refund_fee)")
        if not notice_id or not trade_no:
            raise CallbackRejected("notification lacks notify_id or trade_no")
        status = params.get("trade_status", "")
        if status not in ("TRADE_SUCCESS", "TRADE_CLOSED", "TRADE_FINISHED"):
            raise CallbackRejected(f"unexpected trade_status {status!r}")
        answer = trade_notice_answer(params, trade_no, status)
        if answer is None:
            raise CallbackRejected("refund_fee missing, malformed or above the trade's total")
        return CallbackNotice(refund_no=refund_no, answer=answer, notice_id=notice_id)

    def _deposit_back(self, params: dict[str, str]) -> CallbackNotice:
        """A refund to a bank card reaching (S) or missing (F: credited to the payer's Alipay balance instead) the
        card; the refund itself had already succeeded. P: still on its way."""
        if params["msg_method"] != DEPOSIT_BACK:
            raise CallbackRejected(f"unexpected msg_method {params['msg_method']!r}")
        try:
            sent_at: datetime | None = datetime.fromtimestamp(int(params.get("utc_timestamp", "")) / 1000, UTC)
        except (ValueError, OverflowError, OSError):
            sent_at = None
        self._fresh(sent_at)
        try:
            biz = json.loads(params.get("biz_content", ""))
        except ValueError:
            biz = None
        if not isinstance(biz, dict) or not biz.get("out_request_no") or not params.get("notify_id"):
            raise CallbackRejected("deposit-back message lacks out_request_no or notify_id")
        dback = str(biz.get("dback_status", ""))
        if dback not in ("S", "F", "P"):
            raise CallbackRejected(f"unexpected dback_status {dback!r}")
        answer = deposit_back_answer(biz, dback)
        return CallbackNotice(refund_no=str(biz["out_request_no"]), answer=answer, notice_id=params["notify_id"])


def _read_form(body: bytes) -> dict[str, str]:
    """``application/x-www-form-urlencoded`` with the values in the notification's ``charset`` (UTF-8 unless it
    names another); a field given twice is refused rather than guessed at."""
    try:
        text = body.decode("ascii")
        charset = dict(parse_qsl(text, keep_blank_values=True, encoding="latin-1")).get("charset") or "utf-8"
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=True, encoding=charset, errors="strict")
    except (UnicodeDecodeError, LookupError, ValueError):
        raise CallbackRejected("unreadable form body") from None
    params: dict[str, str] = {}
    for k, v in pairs:
        if k in params:
            raise CallbackRejected(f"field {k!r} given twice")
        params[k] = v
    return params


def _trade_of(order: RefundOrder) -> dict[str, str]:
    """The trade a refund names: Alipay's own ``trade_no`` for a charge only the channel's bill showed (it "wins"
    over ``out_trade_no`` at Alipay), else our ``out_trade_no``."""
    if order.sale.channel_trade_no:
        return {"trade_no": order.sale.channel_trade_no}
    return {"out_trade_no": order.sale.order_no}
