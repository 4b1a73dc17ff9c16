"""WeChat Pay APIv3 refunds through the ``wechatpayv3`` library, and its refund notifications.

Two modes: a direct merchant (直连商户, ``mchid``) refunds its own sales; a service provider (服务商,
``service_provider=True``, ``mchid`` is then the provider's ``sp_mchid``) refunds for its sub-merchants, naming
the sale's sub-merchant (``OriginalSale.merchant_no``) as ``sub_mchid`` in the refund body and the query string.

The library signs our requests with the merchant key and checks the platform's signature on every 2xx answer;
it runs in platform-public-key mode ("微信支付公钥"), so it never downloads certificates. It has no base-URL
setting, so the gateway is set in exactly one place below (``WeChatPayChannel.__init__``).

What the answers mean for a refund is in ``mapping``.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import requests
import urllib3
from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from wechatpayv3 import WeChatPay, WeChatPayType
from wechatpayv3.utils import load_public_key

from posrefund.adapters.channels.common import REASON_TEXT, utc_now
from posrefund.adapters.channels.wechatpay.mapping import (
    EVENT_STATUS,
    REFUND_STATUS,
    query_outcome,
    refund_answer,
    refund_outcome,
    unknown,
)
from posrefund.domain.abnormal_refund import CardKind, CardRefund
from posrefund.domain.channel import CallbackNotice, CallbackRejected, ChannelAnswer, Outcome, RefundOrder
from posrefund.domain.channel_facts import checked_against

PRODUCTION_GATEWAY = "https://api.mch.weixin.qq.com"  # backup: https://api2.mch.weixin.qq.com
SIGNATURE_TYPE = "WECHATPAY2-SHA256-RSA2048"


class WeChatPayChannel:
    """``PaymentChannel`` for sales paid with WeChat Pay: ``refund_no`` travels as ``out_refund_no``.

    ``timeout`` (seconds, read) and ``connect_timeout`` bound every call: past the read timeout the answer is
    UNKNOWN and the worker queries later with the same number; a connection that was never made is NOT_SENT.
    Every answer about a refund is checked against the order it was sent for (``channel_facts``).
    """

    name = "wechat"

    def __init__(
        self,
        *,
        mchid: str,
        merchant_private_key: str,
        merchant_serial_no: str,
        platform_public_key: str,
        platform_public_key_id: str,
        apiv3_key: str,
        base_url: str = PRODUCTION_GATEWAY,
        appid: str = "",
        notify_url: str | None = None,
        timeout: float = 5.0,
        connect_timeout: float = 2.0,
        service_provider: bool = False,
    ) -> None:
        self._service_provider = service_provider
        self._pay = WeChatPay(
            wechatpay_type=WeChatPayType.CODEPAY,  # 付款码: what a POS terminal takes
            mchid=mchid,
            private_key=merchant_private_key,
            cert_serial_no=merchant_serial_no,
            appid=appid,  # not used by refunds
            apiv3_key=apiv3_key,
            notify_url=notify_url,
            timeout=(connect_timeout, timeout),
            public_key=platform_public_key,  # public-key mode: no certificate download while constructing
            public_key_id=platform_public_key_id,
            partner_mode=service_provider,
        )
        # wechatpayv3 has no base-URL option: the gateway is the private Core._gate_way, which defaults to
        # https://api.mch.weixin.qq.com. THIS is the one place we point it elsewhere (the simulator, the backup
        # host). Re-check this attribute name whenever the wechatpayv3 version changes.
        self._pay._core._gate_way = base_url.rstrip("/")

    def submit(self, order: RefundOrder) -> ChannelAnswer:
        """``POST /v3/refund/domestic/refunds``; sending the same ``refund_no`` again is safe by design."""
        missing = self._without_sub_merchant(order)
        if missing is not None:
            return missing
        amount = {"refund": order.amount_fen, "total": order.sale.amount_fen, "currency": order.currency}
        reply = self._call(
            lambda: self._pay.refund(
                out_refund_no=order.refund_no,
                amount=amount,
                # A charge only the channel's file showed is named by its transaction_id: the order no. it
                # carries may be the first capture's, which this refund must not touch.
                transaction_id=order.sale.channel_trade_no or None,
                out_trade_no=None if order.sale.channel_trade_no else order.sale.order_no,
                reason=_reason_text(order.reason),
                sub_mchid=self._sub_mchid(order),
            )
        )
        if isinstance(reply, ChannelAnswer):
            return reply
        return checked_against(refund_outcome(*reply, order.refund_no), order)

    def query(self, order: RefundOrder) -> ChannelAnswer:
        """``GET /v3/refund/domestic/refunds/{out_refund_no}`` (服务商: ``?sub_mchid=…``)."""
        missing = self._without_sub_merchant(order)
        if missing is not None:
            return missing
        reply = self._call(
            lambda: self._pay.query_refund(out_refund_no=order.refund_no, sub_mchid=self._sub_mchid(order))
        )
        if isinstance(reply, ChannelAnswer):
            return reply
        return checked_against(query_outcome(*reply, order.refund_no), order)

    def apply_abnormal_refund(self, refund: CardRefund) -> ChannelAnswer:
        """``POST /v3/refund/domestic/refunds/{refund_id}/apply-abnormal-refund`` (发起异常退款): an ABNORMAL refund
        sent to the customer's debit card (``bank_type``, ``bank_account``, ``real_name``; the last two
        RSA-OAEP encrypted with the platform public key, named by ``Wechatpay-Serial``) or to the merchant's
        account. The answer is the Refund object (PROCESSING, later SUCCESS) or a refusal (DECLINED)."""
        order, card = refund.order, refund.card
        missing = self._without_sub_merchant(order)
        if missing is not None:
            return missing
        to_user = card.kind is CardKind.USER_BANK_CARD
        reply = self._call(
            lambda: self._pay.abnormal_refund(
                refund_id=refund.channel_refund_id,
                out_refund_no=order.refund_no,
                type=card.kind.value,
                bank_type=card.bank_type if to_user else None,
                bank_account=card.account if to_user else None,
                real_name=card.real_name if to_user else None,
                sub_mchid=self._sub_mchid(order),
            )
        )
        if isinstance(reply, ChannelAnswer):
            return reply
        return checked_against(refund_outcome(*reply, order.refund_no), order)

    def _sub_mchid(self, order: RefundOrder) -> str | None:
        return order.sale.merchant_no if self._service_provider else None

    def _without_sub_merchant(self, order: RefundOrder) -> ChannelAnswer | None:
        """A service provider cannot refund for a merchant whose sub_mchid nobody has set: a person sets it."""
        if self._service_provider and not order.sale.merchant_no:
            return ChannelAnswer(Outcome.ABNORMAL, code="NO_SUB_MCHID", message="the merchant has no WeChat sub_mchid")
        return None

    @staticmethod
    def _call(send: Callable[[], tuple[int, str | bytes]]) -> tuple[int, Any] | ChannelAnswer:
        """Run one library call; transport trouble and unverifiable answers become UNKNOWN, or NOT_SENT when the
        request cannot have left (no connection was ever made)."""
        try:
            status, text = send()
        except OSError as e:  # requests' exceptions are OSErrors: timeouts, refused or dropped connections
            return transport_answer(e)
        except Exception as e:
            if type(e) is not Exception:
                raise  # our own bug, not channel trouble: let it surface
            # wechatpayv3 raises a bare Exception when a 2xx answer's signature is missing or wrong: the answer
            # may be forged or damaged, so it says nothing; the query (also verified) will tell.
            return unknown("RESPONSE_NOT_VERIFIED", str(e)[:200])
        try:
            data = json.loads(text)
        except (ValueError, TypeError):
            data = None
        return status, data


def transport_answer(error: OSError) -> ChannelAnswer:
    """NOT_SENT only when the connection itself failed (refused, unresolvable name, connect timeout): then no
    byte of the request was written. A read timeout or a connection dropped mid-answer may have reached WeChat."""
    if isinstance(error, requests.exceptions.ConnectTimeout):
        return ChannelAnswer(Outcome.NOT_SENT, code="CONNECT_TIMEOUT", message=type(error).__name__)
    if isinstance(error, requests.exceptions.ConnectionError) and not isinstance(error, requests.exceptions.Timeout):
        reason = getattr(error.args[0], "reason", None) if error.args else None
        if isinstance(reason, urllib3.exceptions.NewConnectionError):  # refused, DNS (NameResolutionError)
            return ChannelAnswer(Outcome.NOT_SENT, code="CONNECTION_REFUSED", message=type(reason).__name__)
    timed_out = isinstance(error, requests.exceptions.Timeout)
    return unknown("TIMEOUT" if timed_out else "CONNECTION_ERROR", type(error).__name__)


def _reason_text(reason: str) -> str:
    """Shown in the payer's refund message (``reason``, ≤ 80 bytes)."""
    text = REASON_TEXT.get(reason, reason)
    raw = text.encode()[:80]
    return raw.decode(errors="ignore")  # cut at 80 bytes without splitting a character


class WeChatPayCallbackVerifier:
    """``CallbackVerifier`` for refund notifications: platform signature over ``timestamp\\nnonce\\nbody\\n``
    (key named by ``Wechatpay-Serial``), timestamp within ``max_age`` of ``clock()``, then AES-256-GCM decryption
    of ``resource`` with the APIv3 key, and the resource must be for ``mchid`` (a service provider's: ``sp_mchid``,
    with a ``sub_mchid``). Anything else raises ``CallbackRejected``. What the resource states about the refund
    (number, amounts, order, sub-merchant) is in the answer's details, checked against the case by the caller."""

    def __init__(
        self,
        *,
        platform_public_key: str,
        platform_public_key_id: str,
        apiv3_key: str,
        mchid: str = "",
        clock: Callable[[], datetime] = utc_now,
        max_age: timedelta = timedelta(minutes=5),
        service_provider: bool = False,
    ) -> None:
        self._service_provider = service_provider
        key = load_public_key(platform_public_key)  # accepts a PEM or the bare base64 the console shows
        if not isinstance(key, rsa.RSAPublicKey):
            raise ValueError("the WeChat Pay platform public key must be an RSA public key")
        self._key = key
        self._key_id = platform_public_key_id
        self._aes = AESGCM(apiv3_key.encode())
        self._mchid = mchid
        self._clock = clock
        self._max_age = max_age

    def verify(self, headers: dict[str, str], body: bytes) -> CallbackNotice:
        h = {k.lower(): v for k, v in headers.items()}
        signature, timestamp, nonce, serial = (
            h.get(f"wechatpay-{name}", "") for name in ("signature", "timestamp", "nonce", "serial")
        )
        if not (signature and timestamp and nonce and serial):
            raise CallbackRejected("missing Wechatpay-Signature/Timestamp/Nonce/Serial header")
        if serial != self._key_id:
            raise CallbackRejected(f"signed with an unknown key {serial!r}")
        if h.get("wechatpay-signature-type", SIGNATURE_TYPE) != SIGNATURE_TYPE:
            raise CallbackRejected("unsupported signature type")
        try:
            signed_at = datetime.fromtimestamp(int(timestamp), UTC)
        except (ValueError, OverflowError, OSError):
            raise CallbackRejected("bad Wechatpay-Timestamp") from None
        if abs(self._clock() - signed_at) > self._max_age:
            raise CallbackRejected("stale or future Wechatpay-Timestamp")
        message = f"{timestamp}\n{nonce}\n".encode() + body + b"\n"
        try:
            self._key.verify(base64.b64decode(signature, validate=True), message, padding.PKCS1v15(), hashes.SHA256())
        except (InvalidSignature, binascii.Error, ValueError):
            raise CallbackRejected("bad signature") from None
        return self._read(body)

    def _read(self, body: bytes) -> CallbackNotice:
        try:
            envelope = json.loads(body)
            resource = envelope["resource"]
            if envelope.get("resource_type") != "encrypt-resource" or resource.get("algorithm") != "AEAD_AES_256_GCM":
                raise CallbackRejected("not an AEAD_AES_256_GCM resource")
            plain = json.loads(
                self._aes.decrypt(
                    resource["nonce"].encode(),
                    base64.b64decode(resource["ciphertext"]),
                    (resource.get("associated_data") or "").encode(),
                )
            )
            notice_id, refund_no, status = str(envelope["id"]), plain["out_refund_no"], plain["refund_status"]
        except CallbackRejected:
            raise
        except InvalidTag:
            raise CallbackRejected("cannot decrypt resource (wrong APIv3 key or tampered)") from None
        except (ValueError, KeyError, TypeError, AttributeError, binascii.Error):
            raise CallbackRejected("unreadable notification") from None
        if not isinstance(refund_no, str) or not refund_no or status not in REFUND_STATUS:
            raise CallbackRejected("notification lacks out_refund_no or a known refund_status")
        self._check_merchant(plain)
        expected = EVENT_STATUS.get(str(envelope.get("event_type")))
        if expected is not None and expected != status:
            raise CallbackRejected("event_type contradicts refund_status")
        answer = refund_answer(plain, status, str(plain.get("refund_id", "")))
        return CallbackNotice(refund_no=refund_no, answer=answer, notice_id=notice_id)

    def _check_merchant(self, plain: dict[str, Any]) -> None:
        if self._service_provider:
            if plain.get("sp_mchid") != self._mchid or not plain.get("sub_mchid"):
                raise CallbackRejected("notification for another service provider, or without sub_mchid")
        elif self._mchid and plain.get("mchid") != self._mchid:
            raise CallbackRejected("notification for another merchant")
