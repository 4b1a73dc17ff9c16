"""Cost of the card-data guard per request: the ``PiiGuard`` middleware around an app that answers at once,
minus the same app called bare. Run it on the branch and on the commit before to compare:

    PYTHONPATH=src .venv/bin/python bench/pii_guard.py
"""

from __future__ import annotations

import contextlib
import json
import timeit
from collections.abc import Awaitable, Callable
from typing import Any

from posrefund.entrypoints.api.pii_guard import PiiGuard

BODY = json.dumps(
    {
        "sale_id": "sal_0f4c1c9e5d3c4c3e9a77",
        "amount_fen": 12345,
        "reason": "customer_cancelled",
        "note": "顾客退货，小票号 20261204-0031",
        "customer": {"phone": "13912345678", "name": "李四"},
    },
    ensure_ascii=False,
).encode()
PLAIN = [
    (b"host", b"pos.example.cn"),
    (b"user-agent", b"posrefund-terminal/2.4.1 (Android 12; SUNMI P2)"),
    (b"accept", b"application/json"),
    (b"accept-language", b"zh-CN,zh;q=0.9,en;q=0.8"),
    (b"authorization", b"Bearer 6f1e2d3c4b5a69788796a5b4c3d2e1f0.aGVsbG8td29ybGQtdG9rZW4"),
]
# A terminal's idempotency key with a date in it: a run of 13+ digits, so the full search runs on the headers.
POSTING = [
    *PLAIN,
    (b"idempotency-key", b"T0012-20261204-000123"),
    (b"content-type", b"application/json"),
    (b"content-length", str(len(BODY)).encode()),
]
CASES = {
    "GET  /v1/sales?voucher_no=…": ("GET", "/v1/sales", b"voucher_no=000123&limit=50", PLAIN, b""),
    "POST /v1/refunds (JSON)": ("POST", "/v1/refunds", b"", POSTING, BODY),
}
App = Callable[[dict[str, Any], Any, Any], Awaitable[None]]


async def answer(scope: dict[str, Any], receive: Any, send: Any) -> None:
    await receive()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b""})


def call(asgi: App, method: str, path: str, query: bytes, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
    scope = {"type": "http", "method": method, "path": path, "raw_path": path.encode()}
    scope |= {"query_string": query, "headers": headers}

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(_message: Any) -> None:
        return None

    with contextlib.suppress(StopIteration):  # nothing awaits for real: one step runs it to the end
        asgi(scope, receive, send).send(None)  # type: ignore[attr-defined]


def main(number: int = 20_000) -> None:
    guard = PiiGuard(answer)  # type: ignore[arg-type]
    for name, args in CASES.items():
        bare, guarded = (per_call(app, args, number) for app in (answer, guard))
        print(f"{name:30s} guard {1e6 * (guarded - bare):6.1f} µs/request")


def per_call(app: App, args: tuple[Any, ...], number: int) -> float:
    """Seconds per request, the best of five rounds (the least disturbed by other work on the machine)."""
    return min(timeit.repeat(lambda: call(app, *args), number=number, repeat=5)) / number


if __name__ == "__main__":
    main()
