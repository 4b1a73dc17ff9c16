"""The demo's SMS inbox: what the local SMS gateway of ``posrefund serve --with-simulators`` received, as the
customers' phones would show it. Only while that gateway runs (404 otherwise, and no menu link); only this
merchant's messages; phone numbers masked, though the gateway keeps them whole."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from anyio import to_thread
from fastapi import APIRouter, Request
from starlette.responses import Response

from posrefund.domain.errors import NotFound
from posrefund.domain.pii import mask_phone
from posrefund.entrypoints.console.web import PREFIX, ConsoleRoute, allowed, render
from posrefund.service.notifications import settings

router = APIRouter(prefix=PREFIX, route_class=ConsoleRoute, include_in_schema=False)
SHOWN = 20  # the newest messages on the page: a seeded demo tells its forty customers too


class DemoInbox(Protocol):
    """What the demo's gateway received, newest first (``id, out_id, phone, text, received_at``), or None
    when it cannot be read now. ``serve --with-simulators`` puts one on ``app.state.demo_inbox``."""

    def messages(self) -> list[dict[str, Any]] | None: ...


def demo_inbox(request: Request) -> DemoInbox | None:
    found: DemoInbox | None = getattr(request.app.state, "demo_inbox", None)
    return found


@router.get("/notify/demo-inbox")
async def inbox_page(request: Request) -> Response:
    inbox = demo_inbox(request)
    if inbox is None:
        raise NotFound("request.not_found")
    actor, c = allowed(request, "notify.demo_inbox")
    received = await to_thread.run_sync(inbox.messages)
    own = await c.run(settings.own_messages, c.deps, actor, [str(m.get("out_id", "")) for m in received or []])
    rows = [
        {
            "at": datetime.fromisoformat(str(m["received_at"])),
            "phone": mask_phone(str(m["phone"])),
            "text": str(m["text"]),
            "message_id": str(m["out_id"]),
            **own[str(m["out_id"])],
        }
        for m in received or []
        if str(m.get("out_id", "")) in own
    ]
    return render(request, "demo_inbox.html", rows=rows[:SHOWN], more=len(rows) - SHOWN, unreadable=received is None)
