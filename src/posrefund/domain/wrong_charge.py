"""The wrong-charge (错收) aggregate: a discrepancy from reconciliation that became a case.

The case collects evidence, the cause and the responsible party, records that the customer was contacted,
and is corrected by a refund through the normal refund flow. One discrepancy gives at most one case, and
one case at most one correction: the table below allows ``open → correcting`` once; a second start is
refused with :class:`IllegalTransition` (code ``recon.correction_started``) and changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, TypeVar

from posrefund.domain.errors import Conflict, Invalid, check_step
from posrefund.domain.events import CaseEvent, EventSource
from posrefund.domain.free_text import free_text
from posrefund.domain.policy import Reason
from posrefund.domain.reconciliation import Cause, ContactMethod, DiscrepancyClass, Responsible, correction_amount
from posrefund.domain.roles import Actor

MAX_TEXT = 1_000
E = TypeVar("E", Cause, Responsible, ContactMethod)


class WrongChargeStatus(StrEnum):
    """The values are what the ``wrong_charges`` table and the API have always carried."""

    OPEN = "open"  # evidence and cause being collected
    CORRECTING = "correcting"  # the correction refund was started; its own case carries the money


S = WrongChargeStatus

TRANSITIONS: dict[WrongChargeStatus, frozenset[WrongChargeStatus]] = {
    S.OPEN: frozenset({S.CORRECTING}),
    S.CORRECTING: frozenset(),
}

TERMINAL: frozenset[WrongChargeStatus] = frozenset(s for s, nxt in TRANSITIONS.items() if not nxt)

# Which refund reason a correction carries, by what reconciliation found; anything else is a transaction error.
REASON_OF: dict[DiscrepancyClass, Reason] = {
    DiscrepancyClass.DUPLICATE_CHARGE: Reason.DUPLICATE_CHARGE,
    DiscrepancyClass.AMOUNT_MISMATCH: Reason.WRONG_AMOUNT,
    DiscrepancyClass.FEE_MISMATCH: Reason.WRONG_AMOUNT,
}


def choice(kind: type[E], value: str, field: str) -> E:
    """One of the case's fixed vocabularies; anything else is refused with the field that carried it."""
    try:
        return kind(value)
    except ValueError:
        raise Invalid("recon.invalid_field", field=field, value=value) from None


def case_text(value: str, field: str) -> str:
    """A free text of the case (analysis, contact note, the correction's note): bounded, no card number."""
    return free_text(value, field, limit=MAX_TEXT, required=False)


def check_discrepancy_free(wrong_charge_id: str, resolution: str, cleared: bool) -> None:
    """One discrepancy, one case: not for a discrepancy that has a case or was otherwise handled."""
    if wrong_charge_id:
        raise Conflict("recon.case_exists", wrong_charge_id=wrong_charge_id)
    if cleared or resolution:
        raise Conflict("recon.already_resolved", resolution=resolution or "cleared")


@dataclass(frozen=True, slots=True)
class Discrepancy:
    """What the case keeps of the discrepancy it was opened from."""

    id: int
    run_id: str
    cls: DiscrepancyClass
    sale_id: str | None
    line_id: int | None


@dataclass(frozen=True, slots=True)
class Amendment:
    """What a person changes on a case; ``None`` leaves a field as it is. Values are already checked
    (:func:`choice`, :func:`case_text`); ``evidence_ids`` is the whole list, old pieces first."""

    cause: Cause | None = None
    responsible: Responsible | None = None
    analysis: str | None = None
    evidence_ids: list[str] | None = None
    contact_method: ContactMethod | None = None
    contact_note: str = ""


@dataclass(slots=True)
class WrongCharge(EventSource):
    id: str
    merchant_id: str
    discrepancy: Discrepancy
    evidence_ids: list[str]
    cause: Cause
    responsible: Responsible
    analysis: str
    created_by: str
    created_at: datetime
    updated_at: datetime
    status: WrongChargeStatus = S.OPEN
    contact_method: ContactMethod | None = None
    contact_note: str = ""
    contacted_at: datetime | None = None
    correction_refund_id: str = ""

    @classmethod
    def open(
        cls,
        *,
        id: str,
        merchant_id: str,
        discrepancy: Discrepancy,
        evidence_ids: Iterable[str],
        cause: Cause,
        responsible: Responsible,
        analysis: str,
        actor: Actor,
        now: datetime,
    ) -> WrongCharge:
        """The discrepancy's settlement line and sale are the first evidence; uploaded proof is attached by id."""
        case = cls(
            id=id,
            merchant_id=merchant_id,
            discrepancy=discrepancy,
            evidence_ids=list(dict.fromkeys(evidence_ids)),
            cause=cause,
            responsible=responsible,
            analysis=analysis,
            created_by=actor.id,
            created_at=now,
            updated_at=now,
        )
        case._record(
            "wrong_charge.opened",
            actor,
            now,
            None,
            analysis,
            discrepancy_id=discrepancy.id,
            run_id=discrepancy.run_id,
            discrepancy_class=discrepancy.cls.value,
            line_id=discrepancy.line_id,
            sale_id=discrepancy.sale_id,
            evidence_ids=list(case.evidence_ids),
            cause=cause.value,
            responsible=responsible.value,
        )
        return case

    @property
    def refund_reason(self) -> Reason:
        return REASON_OF.get(self.discrepancy.cls, Reason.TRANSACTION_ERROR)

    def amend(self, change: Amendment, actor: Actor, now: datetime) -> bool:
        """Cause analysed, responsibility decided, evidence added, customer contacted (apologised, told what
        happens next): audited with each changed field's before and after. False if nothing changed."""
        wanted: dict[str, Any] = {
            "cause": change.cause,
            "responsible": change.responsible,
            "analysis": change.analysis,
            "evidence_ids": change.evidence_ids,
        }
        if change.contact_method is not None:
            wanted.update(contact_method=change.contact_method, contact_note=change.contact_note, contacted_at=now)
        changes = {k: v for k, v in wanted.items() if v is not None and getattr(self, k) != v}
        if not changes:
            return False
        was = {k: self._stored(k) for k in changes if k != "contacted_at"}
        for name, value in changes.items():
            setattr(self, name, value)
        self.updated_at = now
        action = "wrong_charge.customer_contacted" if "contact_method" in changes else "wrong_charge.updated"
        changed = {k: self._stored(k) for k in changes if k != "contacted_at"}
        self._record(action, actor, now, self.status, "", changed=changed, was=was)
        return True

    def start_correction(
        self, amount_fen: int | None, ours_fen: int | None, theirs_fen: int | None, now: datetime
    ) -> int:
        """Move to ``correcting`` and say how much the correction refunds: the amount given, else what the
        discrepancy itself says (the whole duplicate, the excess over our amount; for a charge only the channel
        showed, ``theirs_fen`` is the line's whole amount)."""
        self._check(S.CORRECTING)
        if not self.discrepancy.sale_id and not self.discrepancy.line_id:
            raise Invalid("recon.no_sale")  # neither our sale nor the channel's line: nothing names the charge
        amount = amount_fen if amount_fen is not None else correction_amount(self.discrepancy.cls, ours_fen, theirs_fen)
        if amount is None:
            raise Invalid("recon.amount_required")
        self.status = S.CORRECTING
        self.updated_at = now
        return amount

    def link_correction(self, refund_id: str, refund_no: str, amount_fen: int, actor: Actor, now: datetime) -> None:
        """The correction refund exists: the case, its discrepancy and the refund are linked in the audit."""
        if self.status is not S.CORRECTING or self.correction_refund_id:
            raise Conflict("recon.case_changed")
        self.correction_refund_id = refund_id
        self._record(
            "wrong_charge.correction_started",
            actor,
            now,
            S.OPEN,
            "",
            amount_fen=amount_fen,
            refund_no=refund_no,
            **self.correction_links,
        )

    @property
    def correction_links(self) -> dict[str, Any]:
        return {
            "wrong_charge_id": self.id,
            "discrepancy_id": self.discrepancy.id,
            "refund_id": self.correction_refund_id,
        }

    def _check(self, target: WrongChargeStatus) -> None:
        check_step(TRANSITIONS, self.status, target, "recon.correction_started", refund_id=self.correction_refund_id)

    def _stored(self, name: str) -> Any:
        """A field as the table and the audit carry it: vocabularies as their value, no contact as ""."""
        value = getattr(self, name)
        if isinstance(value, StrEnum):
            return value.value
        if name == "contact_method" and value is None:
            return ""
        return list(value) if isinstance(value, list) else value

    def _record(
        self, action: str, actor: Actor, now: datetime, before: WrongChargeStatus | None, reason: str, **data: Any
    ) -> None:
        self.pending_events.append(CaseEvent.between(action, actor, now, before, self.status, reason, data))
