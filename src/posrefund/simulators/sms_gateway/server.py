"""A local SMS gateway for the demo: it takes the JSON send a real SMS provider takes and keeps what it got,
so a newcomer sees the customer being told without a real provider or a real phone.

``POST /sms/send`` with ``Authorization: Bearer <credential>`` and ``{"phone", "content", "out_id"?}``
answers ``200 {"id": …}``; a repeat with the same ``Idempotency-Key`` answers the same id and is stored once.
``GET /messages`` (same credential) answers ``{"messages": [{id, out_id, phone, text, received_at}, …]}``,
newest first. A missing or wrong credential is 401, a malformed send 400. The credential is made at start
unless one is given: nothing reads the inbox (it holds clear phone numbers) without it.

Run it: ``posrefund simulate sms_gateway --port 9104`` (prints its address and credential).
"""

from __future__ import annotations

import argparse
import hmac
import json
import re
import secrets
from collections.abc import Sequence
from email.message import Message
from typing import Any
from urllib.parse import urlsplit

from posrefund.simulators.common.http_life import HttpAnswer, HttpSimulatorLife, json_answer
from posrefund.simulators.common.life import serve_in_foreground
from posrefund.simulators.common.side_door import Routes
from posrefund.simulators.sms_gateway.inbox import KEEP, Inbox

SEND_PATH = "/sms/send"
MESSAGES_PATH = "/messages"
# What the sender's payload mapping fills: our field → the sender's (adapters/notifiers/http_gateway.py).
PAYLOAD = {"phone": "to", "content": "text", "out_id": "message_id"}
_PHONE = re.compile(r"^\+?\d{5,20}$")
MAX_TEXT = 4096
MAX_KEY = 128


def _refused(status: int, code: str, message: str) -> HttpAnswer:
    return json_answer(status, {"code": code, "message": message})


class SmsGatewaySimulator(HttpSimulatorLife):
    """The gateway on ``127.0.0.1:<port>`` in a background thread; ``with`` starts and stops it."""

    server_version = "SmsGatewaySimulator"

    def __init__(self, *, port: int = 0, credential: str | None = None, keep: int = KEEP) -> None:
        self.credential = credential or secrets.token_urlsafe(24)
        self.inbox = Inbox(keep)
        self._init_life("sms-gateway", port, hang_seconds=0.0)

    @property
    def send_url(self) -> str:
        return self.base_url + SEND_PATH

    @property
    def messages_url(self) -> str:
        return self.base_url + MESSAGES_PATH

    def _side_routes(self) -> Routes:
        """None: the inbox is read with the credential, at ``GET /messages``."""
        return {}

    def _authorised(self, headers: Message) -> bool:
        scheme, _, given = str(headers.get("Authorization") or "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), self.credential.encode())

    def _answer_http(self, method: str, raw_path: str, headers: Message, body: bytes) -> HttpAnswer:
        path = urlsplit(raw_path).path
        route = {("POST", SEND_PATH): self._send, ("GET", MESSAGES_PATH): self._messages}.get((method, path))
        if route is None:
            return _refused(404, "not_found", "no such path")
        if not self._authorised(headers):
            return _refused(401, "unauthorized", "a bearer credential is required")
        return route(headers, body)

    def _send(self, headers: Message, body: bytes) -> HttpAnswer:
        try:
            doc: Any = json.loads(body or b"null")
        except ValueError:
            return _refused(400, "bad_json", "the body is not JSON")
        if not isinstance(doc, dict):
            return _refused(400, "bad_json", "the body is not a JSON object")
        phone, text, out_id = doc.get("phone"), doc.get("content"), doc.get("out_id", "")
        if not isinstance(phone, str) or not _PHONE.fullmatch(phone):
            return _refused(400, "bad_phone", "phone must be a mobile number")
        if not isinstance(text, str) or not text.strip() or len(text) > MAX_TEXT:
            return _refused(400, "bad_content", f"content must be 1 to {MAX_TEXT} characters")
        key = str(headers.get("Idempotency-Key") or "")
        if not isinstance(out_id, str) or len(out_id) > MAX_KEY or len(key) > MAX_KEY:
            return _refused(400, "bad_out_id", f"out_id and Idempotency-Key are at most {MAX_KEY} characters")
        message, _new = self.inbox.take(key, phone, text, out_id)
        return json_answer(200, {"id": message.id})

    def _messages(self, headers: Message, body: bytes) -> HttpAnswer:
        return json_answer(200, {"messages": [m.as_json() for m in self.inbox.newest_first()]})


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="posrefund simulate sms_gateway", description=__doc__)
    parser.add_argument("--port", type=int, default=9104)
    parser.add_argument("--credential", default=None, help="the bearer credential (default: a random one)")
    args = parser.parse_args(argv)
    sim = SmsGatewaySimulator(port=args.port, credential=args.credential)
    return serve_in_foreground(sim, lambda: f"sms gateway: {sim.send_url} (Bearer {sim.credential})")


if __name__ == "__main__":
    raise SystemExit(main())
