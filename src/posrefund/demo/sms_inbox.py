"""The demo's SMS: the local gateway (``simulators/sms_gateway``) as the notify router's "sms" gateway, and
the reader the console's demo inbox shows it with. Used by ``posrefund serve --with-simulators``, only
when no notify file names real gateways."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from posrefund.adapters.notifiers.http_gateway import HttpGateway
from posrefund.simulators.sms_gateway.server import PAYLOAD, SmsGatewaySimulator

PATH = "/console/notify/demo-inbox"  # the console's page of the inbox, printed in serve's banner


def gateway(sink: SmsGatewaySimulator) -> HttpGateway:
    """posrefund's own HTTP gateway adapter, configured for the sink as for any provider."""
    return HttpGateway(
        name="demo-sms",
        url=sink.send_url,
        payload=dict(PAYLOAD),
        credential=sink.credential,
        response_id="id",
        timeout=5.0,
    )


@dataclass(frozen=True)
class InboxReader:
    """What the sink received, read over HTTP with its credential (the console's demo inbox page)."""

    url: str
    credential: str
    timeout: float = 3.0

    def messages(self) -> list[dict[str, Any]] | None:
        """Newest first: ``id, out_id, phone, text, received_at``; None when the sink cannot be read (the page
        says so instead of failing)."""
        try:
            answer = httpx.get(self.url, headers={"Authorization": f"Bearer {self.credential}"}, timeout=self.timeout)
            answer.raise_for_status()
            return list(answer.json()["messages"])
        except (httpx.HTTPError, ValueError, KeyError, TypeError):
            return None


def reader(sink: SmsGatewaySimulator) -> InboxReader:
    return InboxReader(sink.messages_url, sink.credential)


def sink() -> SmsGatewaySimulator:
    """The sink on any free port with a credential made now (only this process knows it)."""
    return SmsGatewaySimulator()
