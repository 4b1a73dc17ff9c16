"""Refund applications to the bank (退费申请) on a card refund the terminal cannot make: prepare the form,
record its submission (date, channel, bank, the bank's reference; the answer is due a number of Chinese
business days later) and the bank's outcome. Each step is an audit event on the refund case, so the case's
timeline shows the application; the case's own status is not moved (a bank that refunded is settled on the
case by a person with ``/resolve``, citing the bank's reference: docs/documents.md)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any, cast

from posrefund.domain.bank_application import (
    NOT_FOR_BANK,
    OPEN,
    ApplicationStatus,
    attachment_list,
    check_dates,
    check_outcome_date,
    check_transition,
    free_text,
    outcome_of,
    submit_channel,
    why_bank,
)
from posrefund.domain.calendar import add_business_days
from posrefund.domain.errors import Conflict, NotFound
from posrefund.domain.refund import RefundCase
from posrefund.domain.roles import Actor
from posrefund.domain.sale import Channel
from posrefund.ports import UnitOfWork
from posrefund.ports.documents import BankApplicationRow, BankApplicationState
from posrefund.service.deps import Deps
from posrefund.service.documents.bank_form import FormFacts, application_document
from posrefund.service.notifications.settings import load_case
from posrefund.service.records import record_on_case

CARD_CHANNELS = frozenset({Channel.CARD.value, Channel.UNIONPAY_QR.value})


@dataclass(frozen=True, slots=True)
class Preparation:
    reason: str  # account_closed | too_old | issuer_dispute | other
    statement: str = ""
    attachments: tuple[str, ...] = ()
    evidence_ids: tuple[str, ...] | None = None  # None: every piece of evidence on the case


@dataclass(frozen=True, slots=True)
class Submission:
    submitted_on: date
    channel: str  # counter | mail | portal | account_manager
    bank: str
    bank_reference: str = ""


def _state(row: BankApplicationRow) -> BankApplicationState:
    return cast(BankApplicationState, {k: row[k] for k in BankApplicationState.__annotations__})  # type: ignore[literal-required]


def _event(uow: UnitOfWork, case: RefundCase, action: str, actor: Actor, row: BankApplicationRow, **data: Any) -> None:
    """On the case's timeline; the case stays where it is."""
    record_on_case(uow, actor, case, action, row["updated_at"], application_id=row["id"], **data)


def _load(uow: UnitOfWork, actor: Actor, case_id: str, application_id: str) -> tuple[BankApplicationRow, RefundCase]:
    case = load_case(uow, actor, case_id)
    row = uow.bank_applications.get_application(case.merchant_id, application_id)
    if row is None or row["case_id"] != case.id:
        raise NotFound("bank_application.not_found")
    return row, case


def _save(uow: UnitOfWork, row: BankApplicationRow, version: int) -> BankApplicationRow:
    if not uow.bank_applications.save_application(row["id"], version, _state(row)):
        raise Conflict("bank_application.concurrent_update")
    return {**row, "version": version + 1}


def _evidence_of(case: RefundCase, wanted: tuple[str, ...] | None) -> list[str]:
    if wanted is None:
        return list(case.evidence_ids)
    unknown = [e for e in wanted if e not in case.evidence_ids]
    if unknown:
        raise NotFound("evidence.not_found")
    return list(dict.fromkeys(wanted))


def prepare(deps: Deps, actor: Actor, case_id: str, prep: Preparation) -> BankApplicationRow:
    """The form for a card refund the terminal cannot make: refused for another channel's sale, for a case
    refused, withdrawn or already paid, and while another application of the case is open."""
    actor.require("bank_application.manage")
    reason = why_bank(prep.reason).value
    statement = free_text(prep.statement, "statement", required=False)
    papers = attachment_list(list(prep.attachments))
    now = deps.clock.now()
    with deps.uow() as uow:
        case = load_case(uow, actor, case_id)
        sale = uow.sales.get_sale(case.merchant_id, case.sale_id)
        if sale is None or sale.channel.value not in CARD_CHANNELS:
            raise Conflict("bank_application.not_card", channel=sale.channel.value if sale else "")
        if case.status.value in NOT_FOR_BANK:
            raise Conflict("bank_application.case_state", status=case.status.value)
        if any(
            ApplicationStatus(a["status"]) in OPEN
            for a in uow.bank_applications.applications_of_case(case.merchant_id, case.id)
        ):
            raise Conflict("bank_application.open_exists")
        row: BankApplicationRow = {
            "id": deps.ids.new_id("bap"),
            "merchant_id": case.merchant_id,
            "case_id": case.id,
            "status": ApplicationStatus.PREPARED.value,
            "reason": reason,
            "statement": statement,
            "evidence_ids": json.dumps(_evidence_of(case, prep.evidence_ids)),
            "attachments": json.dumps(papers, ensure_ascii=False),
            "submitted_on": None,
            "channel": "",
            "bank": "",
            "bank_reference": "",
            "deadline": None,
            "outcome_on": None,
            "bank_reply": "",
            "prepared_by": actor.id,
            "prepared_at": now,
            "updated_by": actor.id,
            "updated_at": now,
            "version": 1,
        }
        uow.bank_applications.add_application(row)
        _event(uow, case, "bank_application.prepared", actor, row, reason=reason)
        uow.commit()
    return row


def submit(
    deps: Deps, actor: Actor, case_id: str, application_id: str, sub: Submission, is_workday: Callable[[date], bool]
) -> BankApplicationRow:
    """Handed to the bank: the answer is due ``deps.bank_answer_days`` Chinese business days later."""
    actor.require("bank_application.manage")
    channel = submit_channel(sub.channel).value
    bank = free_text(sub.bank, "bank", required=True, limit=100)
    reference = free_text(sub.bank_reference, "bank_reference", required=False, limit=64)
    now = deps.clock.now()
    check_dates(sub.submitted_on, deps.local_date(now))
    with deps.uow() as uow:
        row, case = _load(uow, actor, case_id, application_id)
        check_transition(ApplicationStatus(row["status"]), ApplicationStatus.SUBMITTED)
        deadline = add_business_days(sub.submitted_on, deps.bank_answer_days, is_workday)
        row = _save(
            uow,
            {
                **row,
                "status": ApplicationStatus.SUBMITTED.value,
                "submitted_on": sub.submitted_on,
                "channel": channel,
                "bank": bank,
                "bank_reference": reference,
                "deadline": deadline,
                "updated_by": actor.id,
                "updated_at": now,
            },
            row["version"],
        )
        _event(uow, case, "bank_application.submitted", actor, row, bank=bank, deadline=deadline.isoformat())
        uow.commit()
    return row


def record_outcome(
    deps: Deps, actor: Actor, case_id: str, application_id: str, outcome: str, outcome_on: date, reply: str
) -> BankApplicationRow:
    """The bank's answer: accepted (it refunds the cardholder) or rejected, with its reply."""
    actor.require("bank_application.manage")
    target = outcome_of(outcome)
    reply = free_text(reply, "bank_reply", required=target is ApplicationStatus.REJECTED)
    now = deps.clock.now()
    with deps.uow() as uow:
        row, case = _load(uow, actor, case_id, application_id)
        check_transition(ApplicationStatus(row["status"]), target)
        assert row["submitted_on"] is not None  # a submitted application has its date
        check_outcome_date(outcome_on, row["submitted_on"], deps.local_date(now))
        changes = {"status": target.value, "outcome_on": outcome_on, "bank_reply": reply}
        row = _save(uow, {**row, **changes, "updated_by": actor.id, "updated_at": now}, row["version"])  # type: ignore[typeddict-item]
        _event(uow, case, f"bank_application.{target.value}", actor, row, outcome_on=outcome_on.isoformat())
        uow.commit()
    return row


def applications(deps: Deps, actor: Actor, case_id: str) -> list[BankApplicationRow]:
    actor.require("bank_application.read")
    with deps.uow(readonly=True) as uow:
        case = load_case(uow, actor, case_id)
        return uow.bank_applications.applications_of_case(case.merchant_id, case.id)


def get(deps: Deps, actor: Actor, case_id: str, application_id: str) -> BankApplicationRow:
    actor.require("bank_application.read")
    with deps.uow(readonly=True) as uow:
        return _load(uow, actor, case_id, application_id)[0]


def form_pdf(deps: Deps, actor: Actor, case_id: str, application_id: str) -> bytes:
    """The form as PDF, with what is known of its submission and outcome."""
    actor.require("bank_application.read")
    if deps.pdf is None:
        raise Conflict("document.no_renderer")
    with deps.uow(readonly=True) as uow:
        row, case = _load(uow, actor, case_id, application_id)
        sale = uow.sales.get_sale(case.merchant_id, case.sale_id)
        merchant = uow.merchants.get_merchant(case.merchant_id)
        assert sale is not None and merchant is not None  # a case always has both
        facts = FormFacts(
            application=row,
            case=case,
            sale=sale,
            merchant=merchant,
            store=uow.merchants.get_store(case.merchant_id, case.store_id),
            terminal=uow.merchants.get_terminal(case.merchant_id, case.terminal_id),
            evidence=uow.evidence.evidence_rows(case.merchant_id, json.loads(row["evidence_ids"])),
        )
    return deps.pdf.render(application_document(facts, deps.clock.now()))
