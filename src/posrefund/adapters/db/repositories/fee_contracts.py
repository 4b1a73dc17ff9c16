"""Fee contracts, the fees channels charged, one-off charges and payout cases, in SQL (ports/fees.py)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, exists, insert, or_, select, update

from posrefund.adapters.db import tables as t
from posrefund.adapters.db.repositories.rows import Repository
from posrefund.domain.fee_charges import ChargeTerms, OneOffCharge, PayoutCase, PayoutStatus, VolumeLine
from posrefund.domain.fees import ChargedLine, FeePeriod, FeeRule, StatementLine

_P, _R, _C = t.fee_periods.c, t.fee_rules.c, t.one_off_charges.c
_O, _OL = t.fee_payouts.c, t.fee_payout_lines.c
_L, _F = t.settlement_lines.c, t.settlement_files.c
_LIVE = (PayoutStatus.OPEN.value, PayoutStatus.APPROVED.value, PayoutStatus.PAID.value)
_RULE_COLUMNS = ("channel", "card_type", "rate_ppm", "band_from_fen", "cap_fen", "min_fen", "returned_on_refund")
_CASE_COLUMNS = (
    "id", "merchant_id", "kind", "amount_fen", "opened_by", "opened_at", "explanation", "charge_id",
    "period_from", "period_to", "approved_by", "paid_by", "transfer_ref", "reason", "version",
)  # fmt: skip


class FeeContractSql(Repository):
    def periods(self, merchant_id: str) -> list[FeePeriod]:
        rows = self.c.execute(select(t.fee_periods).where(_P.merchant_id == merchant_id).order_by(_P.effective_from))
        periods = list(rows)
        rules: dict[str, list[FeeRule]] = {p.id: [] for p in periods}
        if periods:
            found = self.c.execute(select(t.fee_rules).where(_R.period_id.in_(list(rules))).order_by(_R.id))
            for r in found:
                rules[r.period_id].append(FeeRule(**{k: getattr(r, k) for k in _RULE_COLUMNS}))
        return [
            FeePeriod(p.effective_from, tuple(rules[p.id]), p.effective_to, p.consented_on, p.consent_ref, p.id)
            for p in periods
        ]

    def add_period(self, merchant_id: str, period: FeePeriod, actor_id: str, now: datetime) -> None:
        self.c.execute(
            insert(t.fee_periods).values(
                id=period.id,
                merchant_id=merchant_id,
                effective_from=period.effective_from,
                effective_to=period.effective_to,
                consented_on=period.consented_on,
                consent_ref=period.consent_ref,
                created_by=actor_id,
                created_at=now,
            )
        )
        rows = [{"period_id": period.id, **{k: getattr(r, k) for k in _RULE_COLUMNS}} for r in period.rules]
        self.c.execute(insert(t.fee_rules), rows)

    def record_consent(self, merchant_id: str, period_id: str, consented_on: date, ref: str) -> bool:
        done = self.c.execute(
            update(t.fee_periods)
            .where(_P.id == period_id, _P.merchant_id == merchant_id, _P.consented_on.is_(None))
            .values(consented_on=consented_on, consent_ref=ref)
        )
        return done.rowcount == 1

    def charged_lines(self, merchant_id: str, date_from: date, date_to: date) -> list[ChargedLine]:
        claimed = exists().where(
            _OL.line_id == _L.id, _O.id == _OL.payout_id, _O.kind == "overcharge", _O.status.in_(_LIVE)
        )
        rows = self.c.execute(
            select(_L.id, _L.line_no, _L.local_date, _L.kind, _F.source, _L.card_type, _L.amount_fen)
            .add_columns(_L.settled_fen, _L.fee_fen)
            .select_from(t.settlement_lines.join(t.settlement_files, _F.id == _L.file_id))
            .where(*_counted(merchant_id, date_from, date_to), ~claimed)
            .order_by(_L.local_date, _L.id)
        )
        return [ChargedLine(*r) for r in rows]

    def volume_lines(self, merchant_id: str, date_from: date, date_to: date) -> list[VolumeLine]:
        rows = self.c.execute(
            select(_L.local_date, _L.kind, _F.source, _L.amount_fen)
            .select_from(t.settlement_lines.join(t.settlement_files, _F.id == _L.file_id))
            .where(*_counted(merchant_id, date_from, date_to))
        )
        return [VolumeLine(*r) for r in rows]

    def add_charge(self, charge: OneOffCharge, actor_id: str, now: datetime) -> None:
        terms = charge.terms
        self.c.execute(
            insert(t.one_off_charges).values(
                id=charge.id,
                merchant_id=charge.merchant_id,
                kind=charge.kind,
                amount_fen=charge.amount_fen,
                charged_on=charge.charged_on,
                activated_on=charge.activated_on,
                terms_kind=terms.kind,
                volume_fen=terms.volume_fen,
                within_days=terms.within_days,
                channels=",".join(terms.channels),
                description=charge.description,
                created_by=actor_id,
                created_at=now,
            )
        )

    def charge(self, merchant_id: str, charge_id: str) -> OneOffCharge | None:
        r = self.c.execute(select(t.one_off_charges).where(_C.id == charge_id, _C.merchant_id == merchant_id)).first()
        return _charge(r) if r else None

    def charges(self, merchant_id: str) -> list[OneOffCharge]:
        rows = self.c.execute(
            select(t.one_off_charges).where(_C.merchant_id == merchant_id).order_by(_C.charged_on, _C.id)
        )
        return [_charge(r) for r in rows]

    def add_payout(self, case: PayoutCase, lines: list[StatementLine]) -> None:
        values = {k: getattr(case, k) for k in _CASE_COLUMNS}
        self.c.execute(insert(t.fee_payouts).values(**values, status=case.status.value))
        if lines:
            self.c.execute(
                insert(t.fee_payout_lines),
                [{"payout_id": case.id, **{k: getattr(s, k) for k in _STATEMENT}} for s in lines],
            )

    def payout(self, merchant_id: str, payout_id: str) -> PayoutCase | None:
        r = self.c.execute(select(t.fee_payouts).where(_O.id == payout_id, _O.merchant_id == merchant_id)).first()
        return _case(r) if r else None

    def payout_lines(self, payout_id: str) -> list[StatementLine]:
        rows = self.c.execute(select(t.fee_payout_lines).where(_OL.payout_id == payout_id).order_by(_OL.day, _OL.id))
        return [StatementLine(**{k: getattr(r, k) for k in _STATEMENT}) for r in rows]

    def payouts(self, merchant_id: str, status: str = "") -> list[PayoutCase]:
        where = [_O.merchant_id == merchant_id] + ([_O.status == status] if status else [])
        rows = self.c.execute(select(t.fee_payouts).where(*where).order_by(_O.opened_at.desc(), _O.id))
        return [_case(r) for r in rows]

    def save_payout(self, case: PayoutCase, now: datetime) -> bool:
        done = self.c.execute(
            update(t.fee_payouts)
            .where(_O.id == case.id, _O.version == case.version)
            .values(
                status=case.status.value,
                approved_by=case.approved_by,
                paid_by=case.paid_by,
                transfer_ref=case.transfer_ref,
                reason=case.reason,
                paid_at=now if case.status is PayoutStatus.PAID else None,
                version=case.version + 1,
            )
        )
        return done.rowcount == 1

    def live_charge_payout(self, merchant_id: str, charge_id: str) -> PayoutCase | None:
        r = self.c.execute(
            select(t.fee_payouts).where(
                _O.merchant_id == merchant_id, _O.charge_id == charge_id, _O.kind == "charge", _O.status.in_(_LIVE)
            )
        ).first()
        return _case(r) if r else None


_STATEMENT = (
    "line_id", "line_no", "day", "kind", "amount_fen", "charged_fen", "due_fen", "difference_fen", "rule",
)  # fmt: skip


def _counted(merchant_id: str, date_from: date, date_to: date) -> list[Any]:
    """The lines that count: the merchant's, of files imported whole and not withdrawn, not a later file's shadow,
    in the dates; a refund only once the channel says it succeeded (one still processing or failed gave nothing
    back yet)."""
    return [
        _L.merchant_id == merchant_id,
        _L.shadow == "",
        _F.finished_at.is_not(None),
        _F.withdrawn_at.is_(None),
        and_(_L.local_date >= date_from, _L.local_date <= date_to),
        or_(_L.kind != "refund", _L.refund_status.in_(("SUCCESS", ""))),
    ]


def _charge(r: Any) -> OneOffCharge:
    terms = ChargeTerms(r.terms_kind, r.volume_fen, r.within_days, tuple(r.channels.split(",")))
    return OneOffCharge(r.id, r.merchant_id, r.kind, r.amount_fen, r.charged_on, r.activated_on, terms, r.description)


def _case(r: Any) -> PayoutCase:
    return PayoutCase(**{k: getattr(r, k) for k in _CASE_COLUMNS}, status=PayoutStatus(r.status))
