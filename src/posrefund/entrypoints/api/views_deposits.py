"""Deposit rows → JSON-ready dicts, with the Chinese labels of kinds and endings."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from posrefund.domain.deposits import ENDING_LABELS, DepositKind, Ending, kind_label
from posrefund.entrypoints.api.views import event_view, plain, refund_view


def terms_view(row: Mapping[str, Any]) -> dict[str, Any]:
    return {**plain(row), "kind_label": kind_label(DepositKind(row["kind"]))[0]}


def deposit_view(row: Mapping[str, Any]) -> dict[str, Any]:
    out = plain({k: v for k, v in row.items() if k not in ("terms", "proposals", "payouts", "events")})
    out["held_until"] = row["held_until"].isoformat()
    out["kind_label"] = kind_label(DepositKind(row["kind"]))[0]
    return out


def overdue_view(row: Mapping[str, Any], today: date) -> dict[str, Any]:
    return {**deposit_view(row), "days_overdue": (today - row["held_until"]).days}


def proposal_view(row: Mapping[str, Any]) -> dict[str, Any]:
    figures = dict(row["figures"])
    steps = figures.pop("steps")
    out = plain({k: v for k, v in row.items() if k != "figures"})
    out.update(figures)
    out["kind_label"] = kind_label(DepositKind(figures["kind"]))[0]
    out["ending_label"] = ENDING_LABELS[Ending(row["ending"])][0]
    out["explanation"] = steps
    out["payout_id"] = row["payout_id"] or None
    return out


def detail_view(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        **deposit_view(row),
        "terms": terms_view(row["terms"]),
        "refunded_fen": row["refunded_fen"],
        "reserved_fen": row["reserved_fen"],
        "proposals": [proposal_view(p) for p in row["proposals"]],
        "payouts": [plain(p) for p in row["payouts"]],
        "events": [event_view(e) for e in row["events"]],
    }


def accepted_view(result: Mapping[str, Any]) -> dict[str, Any]:
    case, payout = result["refund"], result["payout"]
    return {
        "proposal": proposal_view(result["proposal"]),
        "refund": refund_view(case, None) if case is not None else None,
        "payout": plain(payout) if payout is not None else None,
    }
