"""The answers of risk warnings: alerts, their list, the rules with their settings, and a back-test."""

from __future__ import annotations

from typing import Any

from posrefund.entrypoints.api.responses import Out


class RiskAlert(Out):
    id: str
    merchant_id: str
    rule: str
    subject_kind: str
    subject_id: str
    severity: str
    status: str
    window_start: str
    window_end: str
    evidence: dict[str, Any]
    assigned_to: str
    decision_reason: str
    decided_by: str
    decided_at: str | None
    version: int
    created_at: str
    updated_at: str


class RiskAlertDetail(RiskAlert):
    case_ids: list[str]
    title: list[str]
    explain: list[str]


class RiskAlertList(Out):
    items: list[RiskAlert]
    total: int


class RiskRule(Out):
    code: str
    subject: str
    title: list[str]
    explain: list[str]
    settings: dict[str, Any]
    defaults: dict[str, Any]
    feedback: dict[str, int]


class RiskRules(Out):
    rules: list[RiskRule]


class RiskFinding(Out):
    rule: str
    subject_kind: str
    subject_id: str
    severity: str
    case_ids: list[str]
    summary: list[str]
    measures: dict[str, Any]
    thresholds: dict[str, Any]
    cashiers: list[str]
    label: str


class RiskBacktest(Out):
    start: str
    end: str
    settings: dict[str, Any]
    counts: dict[str, dict[str, int]]
    findings: list[RiskFinding]


class RiskScan(Out):
    raised: int
    updated: int
    unchanged: int


class RiskHold(Out):
    case_id: str
    merchant_id: str
    alert_id: str
    status: str
    held_at: str
    decided_by: str
    decided_at: str | None
    reason: str


class RiskHoldList(Out):
    items: list[RiskHold]
