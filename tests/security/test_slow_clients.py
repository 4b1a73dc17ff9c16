"""Idle and half-sent connections are closed on a deadline, so they cannot fill the connection cap and
starve the server: 100 idle sockets and 10 half-sent requests against a real server capped at 100."""

from __future__ import annotations

import socket
import time

import httpx
import pytest

from posrefund.config import Settings
from tests.security.servers import serve, stop, wait_healthy
from tests.support.ports import free_port

HEADER_TIMEOUT = 2.0


@pytest.mark.parametrize("backend", ["sqlite"])
def test_idle_and_half_sent_connections_do_not_starve_the_server(settings: Settings) -> None:
    port = free_port()
    server = serve(
        settings,
        port,
        POSREFUND_SERVER__HEADER_TIMEOUT_SECONDS=str(HEADER_TIMEOUT),
        POSREFUND_SERVER__MAX_CONNECTIONS="100",
    )
    sockets: list[socket.socket] = []
    try:
        wait_healthy(port)
        sockets = [socket.create_connection(("127.0.0.1", port)) for _ in range(110)]
        opened = time.monotonic()
        for half in sockets[100:]:
            half.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        answered = wait_healthy(port, within=HEADER_TIMEOUT + 5)
        assert answered < HEADER_TIMEOUT + 3
        for s in sockets:  # every one of them closed by the server by its deadline
            s.settimeout(max(0.1, opened + HEADER_TIMEOUT + 3 - time.monotonic()))
            assert s.recv(100) == b""
        assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2.0).status_code == 200
    finally:
        for s in sockets:
            s.close()
        stop(server.pid)
        server.wait(10)
