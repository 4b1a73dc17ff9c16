"""A UnionPay-network acquirer host (收单机构主机) for POS terminals, over TCP: sign-on (签到), voids (消费撤销),
refunds (退货), reversals (冲正), settlement (结算) and batch upload (批上送).

It speaks the 中国银联 POS 终端 dialect of ``protocol`` (TPDU + header frames, BCD fields, the ECB MAC under the MAK
delivered at sign-on: ``keys``) and keeps what a real host keeps (``ledger``): the sales it captured, an open batch per
terminal, and every void and refund it executed, keyed by terminal + batch + trace. The rules are in ``money``
(voids, refunds, reversals) and ``settling`` (settlement, batch upload); docs/channels.md lists every answer code.

Faults (``simulators.common.faults``), planned with ``set_fault(key, name, ...)`` where ``key`` is
``terminal:batch:trace`` of the message or ``<original RRN>:<amount in fen>``, or drawn at random:
``latency`` (execute, answer after ``slow_seconds``), ``no_answer_after_accept`` (execute, close without answering),
``system_error`` (39 = 96 or ``code``, nothing executed), ``decline`` (39 = 51 or ``code``, nothing executed),
``host_reversal`` (execute, the answer is lost and the host reverses it on its own: not executed in the end),
``bad_response_mac`` (execute, answer with a broken MAC), ``reversal_lost`` (a 0400 naming that message is neither
applied nor answered); ``times``: how many messages the fault hits (default one).

Run it: ``python -m posrefund.simulators.acquirer.server --port 5858 [--http-port 5859] [--tmk-hex …]``.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import socket
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any, Final

from posrefund.simulators.acquirer import protocol
from posrefund.simulators.acquirer.exchange import Reply, Rules, Terminals
from posrefund.simulators.acquirer.host import DEFAULT_RATE_FAULTS, FAULTS, SUBMIT_FAULTS, Host, tmks_from
from posrefund.simulators.acquirer.http_side import side_routes
from posrefund.simulators.acquirer.ledger import SHANGHAI, HostLedger
from posrefund.simulators.acquirer.settlement_file import write_settlement_file
from posrefund.simulators.common.faults import FaultPlan, add_fault_flags, fault_settings
from posrefund.simulators.common.ledger import KeepsBooks
from posrefund.simulators.common.life import Life, serve_in_foreground
from posrefund.simulators.common.side_door import make_side_server

__all__ = ["DEMO_MAC_KEY", "DEMO_TMK", "FAULTS", "SHANGHAI", "AcquirerSimulator", "Reply", "main"]

log = logging.getLogger(__name__)

DEMO_TMK: Final = bytes.fromhex("0123456789ABCDEFFEDCBA9876543210")  # demo/test only: a real TMK lives in an HSM
DEMO_MAC_KEY: Final = DEMO_TMK  # the old name of the demo's key: the MAC key is now the MAK delivered at sign-on


class AcquirerSimulator(KeepsBooks, Life):
    """The host, served on 127.0.0.1 from a background thread; ``start()`` returns the bound (host, port).

    ``tmk``: the master key of every terminal not listed in ``terminal_keys`` (terminal id → TMK); None to
    know only the listed terminals."""

    book: HostLedger

    def __init__(
        self,
        tmk: bytes | None = DEMO_TMK,
        *,
        terminal_keys: Mapping[str, bytes] | None = None,
        port: int = 0,
        http_port: int | None = None,
        slow_seconds: float = 3.0,
        refund_window_days: int | None = None,
        max_partial_refunds: int | None = None,
        fault_rate: float = 0.0,
        rate_faults: Iterable[str] = DEFAULT_RATE_FAULTS,
        fault_rates: Mapping[str, float] | None = None,
        seed: int = 0,
        clock: Callable[[], datetime] | None = None,
        idle_timeout: float = 30.0,
    ) -> None:
        plan = FaultPlan(
            FAULTS,
            fault_rate=fault_rate,
            rate_faults=rate_faults,
            fault_rates=fault_rates,
            seed=seed,
            drawable=SUBMIT_FAULTS,
        )
        self.book = HostLedger(clock or (lambda: datetime.now(UTC)), plan, plan.rng)
        self.add_payment = self.book.add_payment
        if tmk is not None and len(tmk) != 16:
            raise ValueError("a terminal master key is 16 bytes")
        terminals = Terminals(tmk, tmks_from(terminal_keys))
        self.host = Host(self.book, terminals, Rules(slow_seconds, refund_window_days, max_partial_refunds))
        self._port = port
        self._http_port = http_port
        self._idle_timeout = idle_timeout
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._listener: socket.socket | None = None
        self._accept_thread: threading.Thread | None = None
        self._workers: set[threading.Thread] = set()
        self._conns: set[socket.socket] = set()
        self._http: ThreadingHTTPServer | None = None
        self._http_thread: threading.Thread | None = None
        self.address: tuple[str, int] = ("127.0.0.1", 0)
        self.http_address: tuple[str, int] | None = None

    # ---- lifecycle -------------------------------------------------------------------------------------------

    def start(self) -> tuple[str, int]:
        listener = socket.create_server(("127.0.0.1", self._port), backlog=32)
        listener.settimeout(0.1)  # the accept loop notices stop() within 0.1 s
        self._listener = listener
        self.address = listener.getsockname()[:2]
        self._stop.clear()
        self._accept_thread = threading.Thread(target=self._accept_loop, name="acquirer-accept", daemon=True)
        self._accept_thread.start()
        if self._http_port is not None:
            self._http = make_side_server(side_routes(self.book, self.host), self._http_port)
            http_host, http_port = self._http.server_address[:2]
            self.http_address = (str(http_host), int(http_port))
            self._http_thread = threading.Thread(
                target=self._http.serve_forever, kwargs={"poll_interval": 0.05}, name="acquirer-http", daemon=True
            )
            self._http_thread.start()
        return self.address

    def stop(self) -> None:
        """Stop accepting, cut open connections, wake sleeping answers and wait for every thread."""
        self._stop.set()
        if self._listener:
            with contextlib.suppress(OSError):
                self._listener.shutdown(socket.SHUT_RDWR)  # wakes a blocked accept() at once on Linux
        if self._accept_thread:
            self._accept_thread.join(timeout=5)
        if self._listener:
            self._listener.close()
        with self._lock:
            conns, workers = list(self._conns), list(self._workers)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        for worker in workers:
            worker.join(timeout=5)
        if self._http and self._http_thread:
            self._http.shutdown()
            self._http.server_close()
            self._http_thread.join(timeout=5)
            self._http = None

    # ---- set-up and inspection -------------------------------------------------------------------------------

    def open_batch(self, terminal_no: str) -> str:
        with self.book.lock:
            return self.book.open_batches.get(terminal_no, "")

    def settle(self, terminal_no: str | None = None) -> dict[str, str]:
        """Close the open batch (of one terminal, or all): its sales are settled and leave void range.

        Returns terminal → the batch number now open."""
        return self.book.settle(terminal_no)

    def settlement_file(self, path: Path, day: date | None = None) -> Path:
        """Write the acquirer's settlement file (CSV) of what the host captured and executed, on ``day`` or ever."""
        return write_settlement_file(self.book, path, day)

    def payments(self) -> list[dict[str, Any]]:
        return self.book.payment_rows()

    def messages(self) -> list[dict[str, Any]]:
        """Every message received, in order, with the code answered (None when nothing was answered)."""
        return self.host.messages()

    def handle(self, raw: bytes) -> Reply:
        """Process one framed message; public so a test can drive the host without a socket."""
        return self.host.handle(raw)

    # ---- network ---------------------------------------------------------------------------------------------

    def _accept_loop(self) -> None:
        assert self._listener is not None
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.settimeout(self._idle_timeout)
            worker = threading.Thread(target=self._serve_conn, args=(conn,), name="acquirer-conn", daemon=True)
            with self._lock:
                self._conns.add(conn)
                self._workers.add(worker)
            worker.start()

    def _serve_conn(self, conn: socket.socket) -> None:
        try:
            while not self._stop.is_set():
                raw = protocol.read_frame(conn)
                if raw is None:
                    return
                reply = self.host.handle(raw)
                if reply.response is None:
                    return  # close without answering
                if reply.delay and self._stop.wait(reply.delay):
                    return
                protocol.write_frame(conn, reply.response)
        except (OSError, protocol.ProtocolError) as exc:
            log.debug("acquirer connection ended: %s", exc)
        finally:
            conn.close()
            with self._lock:
                self._conns.discard(conn)
                self._workers.discard(threading.current_thread())


def main(argv: Sequence[str] | None = None) -> int:
    """Run the simulator in the foreground until Ctrl-C or SIGTERM."""
    parser = argparse.ArgumentParser(
        prog="posrefund simulate acquirer", description="Acquirer host simulator (ISO 8583 over TCP)"
    )
    parser.add_argument("--port", type=int, default=5858, help="TCP port on 127.0.0.1 (0 picks a free one)")
    parser.add_argument("--http-port", type=int, default=None, help="optional side HTTP port for /__sim__/…")
    parser.add_argument("--tmk-hex", default=DEMO_TMK.hex(), help="default terminal master key (16 bytes, hex)")
    parser.add_argument("--slow-seconds", type=float, default=3.0)
    parser.add_argument("--refund-window-days", type=int, default=None)
    parser.add_argument("--max-partial-refunds", type=int, default=None)
    add_fault_flags(parser, SUBMIT_FAULTS)
    args = parser.parse_args(argv)
    try:
        sim = AcquirerSimulator(
            bytes.fromhex(args.tmk_hex),
            port=args.port,
            http_port=args.http_port,
            slow_seconds=args.slow_seconds,
            refund_window_days=args.refund_window_days,
            max_partial_refunds=args.max_partial_refunds,
            **fault_settings(args, DEFAULT_RATE_FAULTS),
        )
    except ValueError as exc:
        parser.error(str(exc))

    def banner() -> str:
        host, port = sim.address
        side = f", side HTTP on http://{sim.http_address[0]}:{sim.http_address[1]}" if sim.http_address else ""
        return f"acquirer simulator listening on {host}:{port}{side}"

    return serve_in_foreground(sim, banner)


if __name__ == "__main__":
    raise SystemExit(main())
