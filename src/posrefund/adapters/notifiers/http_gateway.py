"""An SMS or WeChat template-message provider reached over HTTP: a URL, a credential, a payload mapping.

The mapping names, for each field of the provider's JSON body (dotted names nest: ``data.first.value``),
which part of our message fills it (``to``, ``text``, ``subject``, ``message_id``, ``language``,
``event``) or a literal (``"=SIGN"``). Our stable message id is also sent in a header
(``message_id_header``, default ``Idempotency-Key``) so the provider can drop a repeat after a crash.

Answers: 2xx → sent (the provider's id read from ``response_id``, a dotted path in the JSON answer);
429 / 5xx / timeout / connection error → retryable; any other 4xx → failed for good.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx

from posrefund.domain.notification import OutgoingMessage, SendResult


def _put(body: dict[str, Any], dotted: str, value: Any) -> None:
    parts = dotted.split(".")
    node = body
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value


def _get(doc: Any, dotted: str) -> str:
    for part in dotted.split("."):
        if not isinstance(doc, dict) or part not in doc:
            return ""
        doc = doc[part]
    return "" if doc is None else str(doc)


@dataclass
class HttpGateway:
    name: str
    url: str
    payload: dict[str, str]
    credential: str = ""
    auth_header: str = "Authorization"
    auth_scheme: str = "Bearer"
    message_id_header: str = "Idempotency-Key"
    response_id: str = ""
    timeout: float = 5.0
    transport: httpx.BaseTransport | None = field(default=None, repr=False)

    def body_for(self, message: OutgoingMessage) -> dict[str, Any]:
        ours = {
            "to": message.to,
            "text": message.text,
            "subject": message.subject,
            "message_id": message.message_id,
            "language": message.language,
            "event": message.event,
        }
        body: dict[str, Any] = {}
        for provider_field, source in self.payload.items():
            _put(body, provider_field, source[1:] if source.startswith("=") else ours[source])
        return body

    def send(self, message: OutgoingMessage) -> SendResult:
        headers = {self.message_id_header: message.message_id}
        if self.credential:
            headers[self.auth_header] = f"{self.auth_scheme} {self.credential}".strip()
        try:
            with httpx.Client(timeout=self.timeout, transport=self.transport) as client:
                answer = client.post(self.url, json=self.body_for(message), headers=headers)
        except httpx.TimeoutException:
            return SendResult(False, self.name, retryable=True, error="timeout")
        except httpx.HTTPError as exc:
            return SendResult(False, self.name, retryable=True, error=f"{type(exc).__name__}")
        if answer.is_success:
            try:
                doc = answer.json()
            except ValueError:
                doc = {}
            return SendResult(
                True, self.name, provider_message_id=_get(doc, self.response_id) if self.response_id else ""
            )
        retryable = answer.status_code == 429 or answer.status_code >= 500
        return SendResult(False, self.name, retryable=retryable, error=f"HTTP {answer.status_code}")


def gateway_from(kind: str, conf: dict[str, Any], credential: str) -> HttpGateway:
    """Build a gateway from its configuration (notify TOML section or a merchant's stored document)."""
    return HttpGateway(
        name=str(conf.get("name") or kind),
        url=str(conf["url"]),
        payload={str(k): str(v) for k, v in dict(conf["payload"]).items()},
        credential=credential,
        auth_header=str(conf.get("auth_header", "Authorization")),
        auth_scheme=str(conf.get("auth_scheme", "Bearer")),
        message_id_header=str(conf.get("message_id_header", "Idempotency-Key")),
        response_id=str(conf.get("response_id", "")),
        timeout=float(conf.get("timeout", 5.0)),
    )
