"""Risk alerts with their cases, the merchant's rule settings, and the confirmed/dismissed counts per rule."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, cast

from sqlalchemy import and_, func, insert, select, update

from posrefund.adapters.db import tables
from posrefund.adapters.db.repositories.rows import Repository, equal_where_given
from posrefund.ports.risk import AlertQuery, AlertRow, NewAlert

A = tables.risk_alerts.c
L = tables.risk_alert_cases.c
_SET = tables.risk_settings.c


def _alert(r: Any) -> AlertRow:
    row = dict(r._mapping)
    row["evidence"] = json.loads(row["evidence"])
    return cast(AlertRow, row)


class RiskAlertSql(Repository):
    def get_settings(self, merchant_id: str) -> dict[str, Any] | None:
        doc = self.c.execute(select(_SET.document).where(_SET.merchant_id == merchant_id)).scalar()
        return json.loads(doc) if doc else None

    def put_settings(self, merchant_id: str, document: dict[str, Any], actor_id: str, now: datetime) -> int:
        doc = json.dumps(document, sort_keys=True)
        current = self.c.execute(select(_SET.version).where(_SET.merchant_id == merchant_id).with_for_update()).scalar()
        values = {"document": doc, "updated_by": actor_id, "updated_at": now}
        if current is None:
            self.c.execute(insert(tables.risk_settings).values(merchant_id=merchant_id, version=1, **values))
            return 1
        self.c.execute(
            update(tables.risk_settings)
            .where(_SET.merchant_id == merchant_id)
            .values(version=int(current) + 1, **values)
        )
        return int(current) + 1

    def add_alert(self, alert: NewAlert) -> None:
        self.c.execute(
            insert(tables.risk_alerts).values(
                id=alert.id,
                merchant_id=alert.merchant_id,
                rule=alert.rule,
                subject_kind=alert.subject_kind,
                subject_id=alert.subject_id,
                severity=alert.severity,
                status=alert.status,
                window_start=alert.window_start,
                window_end=alert.window_end,
                evidence=json.dumps(alert.evidence, sort_keys=True, ensure_ascii=False),
                version=1,
                created_at=alert.created_at,
                updated_at=alert.created_at,
            )
        )
        self.link_cases(alert.id, list(alert.case_ids), "")

    def latest_alert(self, merchant_id: str, rule: str, subject_kind: str, subject_id: str) -> AlertRow | None:
        q = (
            select(tables.risk_alerts)
            .where(
                A.merchant_id == merchant_id, A.rule == rule, A.subject_kind == subject_kind, A.subject_id == subject_id
            )
            .order_by(A.created_at.desc(), A.id.desc())
            .limit(1)
        )
        r = self.c.execute(q).first()
        return _alert(r) if r else None

    def get_alert(self, merchant_id: str, alert_id: str, *, for_update: bool = False) -> AlertRow | None:
        q = select(tables.risk_alerts).where(A.id == alert_id, A.merchant_id == merchant_id)
        r = self.c.execute(q.with_for_update() if for_update else q).first()
        return _alert(r) if r else None

    def list_alerts(self, merchant_id: str, query: AlertQuery) -> tuple[list[AlertRow], int]:
        conds = [
            A.merchant_id == merchant_id,
            *equal_where_given(
                (A.status, query.status),
                (A.rule, query.rule),
                (A.severity, query.severity),
                (A.assigned_to, query.assigned_to),
            ),
        ]
        if query.case_id:
            conds.append(A.id.in_(select(L.alert_id).where(L.case_id == query.case_id)))
        total = int(self.c.execute(select(func.count()).select_from(tables.risk_alerts).where(*conds)).scalar() or 0)
        q = (
            select(tables.risk_alerts)
            .where(*conds)
            .order_by(A.created_at.desc(), A.id.desc())
            .limit(query.limit)
            .offset(query.offset)
        )
        return [_alert(r) for r in self.c.execute(q)], total

    def update_alert(self, merchant_id: str, alert_id: str, version: int, **values: Any) -> bool:
        if "evidence" in values:
            values["evidence"] = json.dumps(values["evidence"], sort_keys=True, ensure_ascii=False)
        done = self.c.execute(
            update(tables.risk_alerts)
            .where(A.id == alert_id, A.merchant_id == merchant_id, A.version == version)
            .values(version=version + 1, **values)
        )
        return done.rowcount == 1

    def alert_cases(self, alert_id: str) -> list[str]:
        q = select(L.case_id).where(L.alert_id == alert_id).order_by(L.case_id)
        return [str(c) for c in self.c.execute(q).scalars()]

    def link_cases(self, alert_id: str, case_ids: list[str], linked_by: str) -> int:
        """Link the cases not linked yet; how many were new."""
        known = set(self.alert_cases(alert_id))
        fresh = [c for c in dict.fromkeys(case_ids) if c not in known]
        if fresh:
            self.c.execute(
                insert(tables.risk_alert_cases),
                [{"alert_id": alert_id, "case_id": c, "linked_by": linked_by} for c in fresh],
            )
        return len(fresh)

    def alert_counts(self, merchant_id: str, start: datetime, end: datetime) -> list[tuple[str, str, str, int]]:
        q = (
            select(A.rule, A.severity, A.status, func.count())
            .where(A.merchant_id == merchant_id, A.window_start < end, A.window_end > start)
            .group_by(A.rule, A.severity, A.status)
        )
        return [(str(r), str(sev), str(st), int(n)) for r, sev, st, n in self.c.execute(q)]

    def feedback(self, merchant_id: str) -> dict[str, dict[str, int]]:
        q = select(A.rule, A.status, func.count()).where(and_(A.merchant_id == merchant_id)).group_by(A.rule, A.status)
        out: dict[str, dict[str, int]] = {}
        for rule, status, n in self.c.execute(q):
            out.setdefault(str(rule), {})[str(status)] = int(n)
        return out
