"""A back-test: the rules run over a range of history — with the merchant's settings, or with settings being
considered — and list what they would have flagged. Nothing is written: no alert, no audit event."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from posrefund.domain.roles import Actor
from posrefund.service.deps import Deps
from posrefund.service.risk.alerts import findings
from posrefund.service.risk.rules import check_settings, merge


def backtest(deps: Deps, actor: Actor, start: datetime, end: datetime, overrides: Any = None) -> dict[str, Any]:
    actor.require("risk.read")
    trial = check_settings(overrides or {})
    mid = actor.merchant_id or ""
    with deps.uow(readonly=True) as uow:
        settings = merge(uow.risk.get_settings(mid), trial)
        found = findings(uow, mid, start, end, settings)
    counts: Counter[tuple[str, str]] = Counter((f.rule, f.severity) for f in found)
    by_rule: dict[str, dict[str, int]] = {}
    for (rule, severity), n in sorted(counts.items()):
        by_rule.setdefault(rule, {})[severity] = n
    return {
        "start": start,
        "end": end,
        "settings": settings,
        "counts": by_rule,
        "findings": [
            {
                "rule": f.rule,
                "subject_kind": f.subject_kind,
                "subject_id": f.subject_id,
                "severity": f.severity,
                "case_ids": list(f.case_ids),
                **f.evidence(),
            }
            for f in found
        ],
    }
