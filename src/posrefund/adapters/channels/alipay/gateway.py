"""One signed call to Alipay's OpenAPI gateway, shared by every Alipay channel (refunds, fund authorisation).

``python-alipay-sdk`` signs the request with the app's private key (RSA2 over the sorted ``k=v&…`` string of the
common parameters and ``biz_content``) and verifies Alipay's signature over the exact text of the answer's
``<method>_response`` object. What comes back is the response object and whether it was signed and verified, or,
for transport trouble and unverifiable answers, a ``ChannelAnswer`` saying nothing is known (UNKNOWN). The
library has no base-URL setting, so the gateway is set in exactly one place (``AlipayGateway.__init__``).
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Callable
from datetime import datetime
from http.client import HTTPException
from typing import Any
from urllib.error import HTTPError

from alipay import AliPay
from alipay.exceptions import AliPayException, AliPayValidationError
from alipay.utils import AliPayConfig
from cryptography.hazmat.primitives import serialization

from posrefund.adapters.channels.alipay.certs import CertificateMode
from posrefund.adapters.channels.alipay.mapping import BEIJING, TIME_FORMAT, told_nothing
from posrefund.adapters.channels.common import utc_now
from posrefund.domain.channel import ChannelAnswer, Outcome

log = logging.getLogger(__name__)

PRODUCTION_GATEWAY = (
    "https://openapi.alipay.com/gateway.do"  # sandbox: https://openapi-sandbox.dl.alipaydev.com/gateway.do
)
# The message of the CONNECTION_ERROR answer when the gateway refused the connection: nothing left this host.
REFUSED = "connection refused"

Reply = tuple[dict[str, Any], bool]


def pem_of(text: str, *, private: bool) -> str:
    """Accept a PEM, or the bare base64 the Alipay console and key tool show (PKCS#1 or PKCS#8, SPKI)."""
    if "-----BEGIN" in text:
        return text
    der = base64.b64decode("".join(text.split()))
    if private:
        key = serialization.load_der_private_key(der, password=None)
        return key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode("ascii")
    public = serialization.load_der_public_key(der)
    return public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode(
        "ascii"
    )


class AlipayCertificateChanged(AliPayValidationError):  # type: ignore[misc]
    """An answer signed under another Alipay certificate than the configured one (Alipay renews it ahead of time and
    names the new one in ``alipay_cert_sn``): the operator downloads it and updates ``alipay_cert``."""


class _AliPay(AliPay):  # type: ignore[misc]
    """The library's client, plus certificate mode's check of which Alipay certificate signed an answer."""

    alipay_cert_sn = ""

    def _verify_and_return_sync_response(self, raw_string: str, response_type: str) -> Any:
        named = json.loads(raw_string).get("alipay_cert_sn") if self.alipay_cert_sn else None
        if named and named != self.alipay_cert_sn:
            raise AlipayCertificateChanged(named)
        return super()._verify_and_return_sync_response(raw_string, response_type)


class AlipayGateway:
    """The app's signed line to Alipay. ``timeout`` (seconds) bounds connecting and every read of a call;
    ``clock`` stamps the request ``timestamp`` (Beijing time); ``certificate``: public-key-certificate mode (every
    request carries ``app_cert_sn`` and ``alipay_root_cert_sn``; ``alipay_public_key`` is then the key of
    Alipay's certificate)."""

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
        self._extra = certificate.request_params() if certificate is not None else {}
        self._client: Any = _AliPay(
            appid=app_id,
            app_notify_url=None,  # refunds are notified to the payment's notify_url; the refund API takes none
            app_private_key_string=pem_of(app_private_key, private=True),
            alipay_public_key_string=pem_of(alipay_public_key, private=False),  # verifies answers (public-key mode)
            sign_type="RSA2",
            config=AliPayConfig(timeout=timeout),  # passed to urlopen: connect and each read
        )
        # python-alipay-sdk has no base-URL option: the gateway is the private attribute BaseAliPay._gateway
        # (https://openapi.alipay.com/gateway.do unless debug=True). THIS is the one place we point it elsewhere
        # (the simulator, the sandbox). Re-check this attribute name whenever the library version changes.
        self._client._gateway = gateway_url
        self._client.alipay_cert_sn = certificate.alipay_cert_sn if certificate is not None else ""
        self._clock = clock

    def call(self, method: str, biz: dict[str, Any]) -> Reply | ChannelAnswer:
        """One gateway call: (the response object, whether it was signed and verified), or UNKNOWN for transport
        trouble and unverifiable answers (a refused connection is CONNECTION_ERROR with the message ``REFUSED``)."""
        # The library stamps ``timestamp`` with the host's local time; Alipay reads it as Beijing time.
        timestamp = self._clock().astimezone(BEIJING).strftime(TIME_FORMAT)
        try:
            data = self._client.server_api(method, biz_content=biz, timestamp=timestamp, **self._extra)
        except AlipayCertificateChanged as e:
            log.warning("alipay %s: answer signed under Alipay certificate %s, not the configured one", method, e)
            return ChannelAnswer(
                Outcome.UNKNOWN, code="ALIPAY_CERT_CHANGED", message=f"Alipay now signs with certificate {e}"
            )
        except AliPayValidationError:
            # Alipay's signature over the answer is wrong: it may be forged or damaged, so it says nothing.
            return ChannelAnswer(Outcome.UNKNOWN, code="RESPONSE_NOT_VERIFIED", message="bad signature on answer")
        except AliPayException as e:
            # Raised for answers without a ``sign``: Alipay sends common-parameter errors (40001/40002) unsigned.
            # The library keeps the raw answer in a name-mangled attribute; re-check it on library upgrades.
            return _unsigned(str(getattr(e, "_AliPayException__message", "")), method)
        except HTTPError as e:  # before URLError: it is one
            return told_nothing(f"HTTP_{e.code}", "gateway answered an HTTP error")
        except (OSError, HTTPException) as e:  # URLError, timeouts, refused or dropped connections
            return _transport_trouble(e)
        except (ValueError, AttributeError, TypeError, KeyError) as e:
            # Not JSON, or JSON without the expected response object (the library trips over it).
            log.warning("alipay %s: unreadable answer (%s)", method, type(e).__name__)
            return ChannelAnswer(Outcome.UNKNOWN, code="BAD_RESPONSE", message=type(e).__name__)
        if not isinstance(data, dict):
            return ChannelAnswer(Outcome.UNKNOWN, code="BAD_RESPONSE", message="answer is not an object")
        return data, True


def _transport_trouble(e: OSError | HTTPException) -> ChannelAnswer:
    reason = getattr(e, "reason", None)
    if isinstance(e, TimeoutError) or isinstance(reason, TimeoutError):
        return told_nothing("TIMEOUT", type(e).__name__)
    if isinstance(e, ConnectionRefusedError) or isinstance(reason, ConnectionRefusedError):
        return told_nothing("CONNECTION_ERROR", REFUSED)
    return told_nothing("CONNECTION_ERROR", type(e).__name__)


def _unsigned(raw: str, method: str) -> Reply | ChannelAnswer:
    try:
        envelope = json.loads(raw)
    except ValueError:
        envelope = None
    if isinstance(envelope, dict):
        inner = envelope.get(method.replace(".", "_") + "_response") or envelope.get("error_response")
        if isinstance(inner, dict):
            return inner, False
    return ChannelAnswer(Outcome.UNKNOWN, code="BAD_RESPONSE", message="unsigned answer without a response object")
