"""Reconciliation never trusts a settlement file it should not: one of another merchant, one with lines outside
the dates asked for, one imported before (answered with the file it already is), and a file found wrong after
its import can be withdrawn. What a file says of itself (its summary, lines cut short) the settlement adapter
checks as it reads; this module checks the file against the request and the merchant.

Every refusal is raised inside the import's transaction, so a refused file changes nothing.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any

from posrefund.domain.errors import Conflict, Invalid, NotFound
from posrefund.domain.roles import Actor
from posrefund.ports import SettlementFileRow, UnitOfWork
from posrefund.service.deps import Deps
from posrefund.service.records import record

REASON_MAX = 500
# An import writes a batch every second or so; one silent this long has lost its process (a batch waiting for
# SQLite's write lock gives up long before).
ABANDONED_AFTER = timedelta(minutes=2)
BEIJING = timezone(timedelta(hours=8), "Asia/Shanghai")  # times shown to people (no DST since 1991)


def beijing_time(moment: datetime) -> str:
    """An instant as finance reads it in a message: Beijing time to the second."""
    return f"{moment.astimezone(BEIJING):%Y-%m-%d %H:%M:%S}"


def file_state(row: SettlementFileRow, now: datetime) -> str:
    """What finance sees of a file: ``imported`` (it counts), ``withdrawn``, ``importing`` (a batch written
    lately) or ``interrupted`` (its importer died midway; the next import of the merchant clears it)."""
    beat = row["heartbeat_at"]
    if beat is not None:
        return "importing" if beat >= now - ABANDONED_AFTER else "interrupted"
    if row["finished_at"] is None:
        return "interrupted"
    return "withdrawn" if row["withdrawn_at"] is not None else "imported"


def duplicate_notice(row: SettlementFileRow) -> dict[str, Any]:
    """The answer to a file imported before (in any copy): which file it is, so nothing is imported twice."""
    return {
        "code": "recon.file_duplicate",
        "params": {
            "file_id": row["id"],
            "filename": row["filename"],
            "imported_at": beijing_time(row["imported_at"]),
        },
    }


def check_request(
    uow: UnitOfWork,
    merchant_id: str,
    source: str,
    file_id: str,
    dates: tuple[date | None, date | None],
) -> None:
    """The staged file is the merchant's (every line names the merchant's configured account on the channel:
    WeChat 商户号 / 特约商户号, Alipay account, acquirer merchant no.) and every line is dated within the dates
    asked for (when asked). Without a configured account the merchant number is not checked."""
    account = uow.merchants.channel_account(merchant_id, source)
    if account is not None:
        expected = account["sub_mchid"]
        if other := uow.settlement_files.other_merchant_line(file_id, expected):
            raise Invalid("recon.file_other_merchant", line=other[0], found=other[1] or "—", expected=expected)
    date_from, date_to = dates
    if date_from is None and date_to is None:
        return
    first = date_from or date.min
    last = date_to or date.max
    if outside := uow.settlement_files.line_outside(file_id, first, last):
        raise Invalid(
            "recon.file_out_of_range",
            line=outside[0],
            date=outside[1].isoformat(),
            date_from=(date_from or outside[1]).isoformat(),
            date_to=(date_to or outside[1]).isoformat(),
        )


def withdraw_file(deps: Deps, actor: Actor, file_id: str, reason: str) -> dict[str, Any]:
    """Withdraw an imported file found wrong (finance, with a reason): its lines no longer count (a line another
    file also holds counts there from now on), the runs that read it are marked stale with the reason (run the
    same dates again for a run without it), and the withdrawal is audited. A file whose line is the ground of a
    handled discrepancy or a wrong-charge case is refused (``recon.file_in_use``): that decision would lose its
    proof. The same content imported again counts again, under the same file id."""
    actor.require("recon.import")
    why = " ".join(reason.split())
    if not why:
        raise Invalid("recon.reason_required")
    if len(why) > REASON_MAX or "\x00" in why:
        raise Invalid("recon.invalid_field", field="reason", value=f"≤ {REASON_MAX} characters")
    merchant_id = actor.merchant_id or ""
    now = deps.clock.now()
    with deps.uow() as uow:
        row = _live_file(uow, merchant_id, file_id)
        if used := uow.settlement_files.line_in_use(merchant_id, file_id):
            raise Conflict("recon.file_in_use", line_no=used.line_no, id=used.id, what=used.what)
        removed = uow.settlement_files.withdraw_file(merchant_id, file_id, actor.id, why, now)
        stale = uow.settlement_files.mark_runs_stale(merchant_id, file_id, f"{file_id}: {why}", now)
        record(
            uow,
            actor,
            merchant_id,
            "settlement.withdrawn",
            now,
            file_id=file_id,
            source=row["source"],
            fingerprint=row["fingerprint"],
            reason=why,
            lines=removed,
            stale_runs=[run["id"] for run in stale],
        )
        uow.commit()
    return {
        "file_id": file_id,
        "withdrawn_at": now,
        "reason": why,
        "lines_removed": removed,
        "stale_runs": [
            {"id": r["id"], "date_from": r["date_from"], "date_to": r["date_to"], "source": r["source"]} for r in stale
        ],
    }


def _live_file(uow: UnitOfWork, merchant_id: str, file_id: str) -> SettlementFileRow:
    """The merchant's file, imported whole and not withdrawn yet (another merchant's is 404, like one that does
    not exist)."""
    row = uow.settlement_files.get_file(merchant_id, file_id)
    if row is None:
        raise NotFound("recon.file_not_found")
    if row["withdrawn_at"] is not None:
        raise Conflict("recon.file_withdrawn", withdrawn_at=beijing_time(row["withdrawn_at"]))
    if row["finished_at"] is None:
        raise Conflict("recon.file_importing", file_id=file_id)
    return row
