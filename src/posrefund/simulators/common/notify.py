"""Sending notifications from a wallet simulator to the merchant's ``notify_url``: one POST per attempt, a
journal of every attempt that tests can wait on, and the order in which callback faults send copies."""

from __future__ import annotations

import threading
import time
import urllib.error
import urllib.request
from collections.abc import Collection, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from posrefund.simulators.common.faults import LATE_CALLBACK_SECONDS

FORGED, DUPLICATE = "forged", "duplicate"
# Not to an outside proxy: the notify_url is the merchant's own server.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def callback_kinds(faults: Collection[str], genuine: str) -> list[str]:
    """The copies one notification is sent as: a forged one first (``bad_signature_callback``), then the
    genuine one, then a duplicate of it (``duplicate_callback``)."""
    kinds = [genuine]
    if "bad_signature_callback" in faults:
        kinds.insert(0, FORGED)
    if "duplicate_callback" in faults:
        kinds.append(DUPLICATE)
    return kinds


def send_offset(faults: Collection[str], copy: int) -> float:
    """Seconds after the refund is final that its ``copy``-th notification copy leaves: one after the other,
    and ``LATE_CALLBACK_SECONDS`` later for a ``late_callback``."""
    return 0.01 * copy + (LATE_CALLBACK_SECONDS if "late_callback" in faults else 0.0)


def post(url: str, data: bytes, headers: Mapping[str, str], timeout: float) -> tuple[int, str, str]:
    """One delivery attempt: (HTTP status or 0, the start of the answer, the transport error or "")."""
    if urlsplit(url).scheme not in ("http", "https"):
        return 0, "", "notify_url is not http(s)"
    request = urllib.request.Request(url, data=data, headers=dict(headers), method="POST")  # noqa: S310
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            return response.status, response.read(64).decode("utf-8", "replace").strip(), ""
    except urllib.error.HTTPError as e:
        return e.code, "", ""
    except OSError as e:
        return 0, "", f"{type(e).__name__}: {e}"


def retry_delay(acknowledged: bool, kind: str, attempt: int, delays: Sequence[float]) -> float | None:
    """Seconds until the next attempt, or None: acknowledged, forged (never retried), or out of attempts."""
    if acknowledged or kind == FORGED or attempt >= len(delays):
        return None
    return delays[attempt]


class DeliveryLog:
    """Every delivery attempt, in order; ``wait`` blocks until enough were made."""

    def __init__(self) -> None:
        self._rows: list[dict[str, Any]] = []
        self._cv = threading.Condition()

    def record(self, row: dict[str, Any]) -> None:
        with self._cv:
            self._rows.append(row)
            self._cv.notify_all()

    def rows(self) -> list[dict[str, Any]]:
        with self._cv:
            return list(self._rows)

    def wait(self, count: int, timeout: float) -> list[dict[str, Any]]:
        """Block until at least ``count`` attempts were made (or the timeout passes)."""
        deadline = time.monotonic() + timeout
        with self._cv:
            while len(self._rows) < count and (left := deadline - time.monotonic()) > 0:
                self._cv.wait(left)
            return list(self._rows)


class Notifies:
    """The simulator's face of its notifications: every delivery attempt, and a way to wait for them."""

    _delivery_log: DeliveryLog

    def notifications(self) -> list[dict[str, Any]]:
        """Every delivery attempt, in order: refund_no, kind, attempt, status, error and the channel's ids."""
        return self._delivery_log.rows()

    def wait_notifications(self, count: int, timeout: float = 5.0) -> list[dict[str, Any]]:
        """Block until at least ``count`` delivery attempts were made (or the timeout passes)."""
        return self._delivery_log.wait(count, timeout)
