"""A bank-card acquirer host (收单机构主机) for voids (消费撤销), refunds (退货) and reversals (冲正), over TCP.

It speaks the ISO 8583 dialect described in ``protocol`` (2-byte length frames, HMAC stand-in MAC in
field 64, our refund_no in field 48) and keeps what a real host keeps: the payments it captured, an open batch per
terminal that ``settle()`` closes, and a ledger of executed voids and refunds keyed by refund_no.

Rules (CHANNELS.md §3; acquirers differ, so the limits are constructor settings):

- void: only for a payment of the terminal's open, unsettled batch, for the whole amount, with nothing refunded yet;
- refund: any payment, partial or whole, repeated, while the cumulative total stays within the original amount;
- the same refund_no again (same original and amount) executes nothing and repeats the first answer; with a
  different original or amount it is refused with 94;
- a reversal (0400) undoes the execution of the message it names (terminal 41 + trace 11 + refund_no 48): the
  ledger entry stays, marked ``reversed`` and ``executed: false``; the refund_no may then be submitted again.

Response codes (CUP POS table): 00 approved · 05 do not honour (``decline`` fault) · 12 invalid transaction (void
outside the terminal's open batch, of a settled or already refunded sale, or from another terminal) · 13 invalid
amount (≤ 0, or one refund above the original) · 25 original not found / references do not match (and "no such
refund_no" to a query, "nothing to undo" to a reversal) · 30 format error · 40 function not supported ·
58 refund window passed (``refund_window_days``) · 61 cumulative refunds would exceed the original ·
64 void amount is not the original amount · 65 too many partial refunds (``max_partial_refunds``) ·
94 same refund_no with a different original or amount · 96 system malfunction (``system_error`` fault) ·
A0 MAC check failed (answered without a MAC, nothing done).

Faults, planned per refund_no with ``set_fault`` (or drawn at random: ``simulators.common.faults``):
``no_answer_after_accept`` (execute, then close the connection without answering), ``decline`` (05 or ``code``,
nothing done), ``system_error`` (96 or ``code``; the effect applied unless ``applied=False``), ``slow``
(execute, answer after ``slow_seconds``, longer than the client waits), ``bad_response_mac`` (execute, answer
with a broken MAC), ``reversal_lost`` (a reversal for that refund_no is swallowed: neither applied nor
answered); ``times``: how many messages the fault hits (default one).

Run it: ``python -m posrefund.simulators.acquirer.server --port 5858 [--http-port 5859]``.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import socket
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from http.server import ThreadingHTTPServer
from typing import Any, Final

from posrefund.simulators.acquirer import protocol
from posrefund.simulators.acquirer.host import DEFAULT_RATE_FAULTS, FAULTS, SUBMIT_FAULTS, Host, Reply, Rules
from posrefund.simulators.acquirer.http_side import side_routes
from posrefund.simulators.acquirer.ledger import SHANGHAI, HostLedger
from posrefund.simulators.common.faults import FaultPlan, add_fault_flags, fault_settings
from posrefund.simulators.common.ledger import KeepsBooks
from posrefund.simulators.common.life import Life, serve_in_foreground
from posrefund.simulators.common.side_door import make_side_server

__all__ = ["DEMO_MAC_KEY", "FAULTS", "SHANGHAI", "AcquirerSimulator", "Reply", "main"]

log = logging.getLogger(__name__)

DEMO_MAC_KEY: Final = b"posrefund-demo-acquirer-mac-key!"  # demo/test only: a real key lives in an HSM


class AcquirerSimulator(KeepsBooks, Life):
    book: HostLedger

    """The host, served on 127.0.0.1 from a background thread; ``start()`` returns the bound (host, port)."""

    def __init__(
        self,
        mac_key: bytes = DEMO_MAC_KEY,
        *,
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
        self.host = Host(self.book, mac_key, Rules(slow_seconds, refund_window_days, max_partial_refunds))
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
    parser.add_argument("--mac-key-hex", default=DEMO_MAC_KEY.hex(), help="MAC key shared with the adapter, in hex")
    parser.add_argument("--slow-seconds", type=float, default=3.0)
    parser.add_argument("--refund-window-days", type=int, default=None)
    parser.add_argument("--max-partial-refunds", type=int, default=None)
    add_fault_flags(parser, SUBMIT_FAULTS)
    args = parser.parse_args(argv)
    try:
        sim = AcquirerSimulator(
            bytes.fromhex(args.mac_key_hex),
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
