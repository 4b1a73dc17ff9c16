"""The scheduled risk scan: each merchant's rules over the last week, about every quarter of an hour, run by
the worker's housekeeping. Several workers share the schedule: a merchant's scan is claimed in the database
(compare-and-set on its next time), so it runs once per interval whichever workers are up. A high alert the scan
raises holds the refunds it names that have not reached their channel (alerts.scan → holds.hold_cases)."""

from __future__ import annotations

import logging
from datetime import timedelta

from posrefund.domain.roles import Actor, Role
from posrefund.service.deps import Deps
from posrefund.service.risk import alerts

log = logging.getLogger(__name__)
SCAN_EVERY = timedelta(minutes=15)
LOOKBACK = timedelta(days=7)  # long enough for the peer statistics, short enough to stay a short read


def scheduled_scans(deps: Deps, worker: str) -> int:
    """Scan every merchant whose turn has come and that this worker claimed; how many were scanned."""
    now = deps.clock.now()
    with deps.uow(readonly=True) as uow:
        merchants = uow.risk_holds.merchants()
    scanned = 0
    for merchant_id in merchants:
        with deps.uow() as uow:
            mine = uow.risk_holds.claim_scan(merchant_id, now, now + SCAN_EVERY, worker)
            uow.commit()
        if not mine:
            continue
        system = Actor(id="system", role=Role.SYSTEM, merchant_id=merchant_id, name="posrefund")
        try:
            alerts.scan(deps, system, now - LOOKBACK, now)
        except Exception:
            log.exception("risk.scheduled_scan_failed merchant=%s", merchant_id)  # its next turn tries again
            continue
        scanned += 1
    return scanned
