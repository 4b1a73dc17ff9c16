"""The flows around a reconciliation: a duplicate charge becomes a wrong-charge case whose correction refund
succeeds through the normal refund path; a refund the channel paid but we lost is recovered, never paid again;
files are recognised when imported twice and bad lines are kept with their line numbers."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest

from posrefund.adapters.calendar_cn import ChineseCalendar
from posrefund.adapters.db.repositories.audit import audit_fields
from posrefund.adapters.settlement import file_fingerprint, parse_card_settlement, parse_wechat_bill
from posrefund.demo.settlement import Faults, from_ledger
from posrefund.domain.errors import Conflict, Forbidden, Invalid, NotFound
from posrefund.domain.reconciliation import FeeRate
from posrefund.domain.refund import RefundStatus
from posrefund.domain.roles import Actor
from posrefund.service import audit, evidence, execution, reconciliation, refunds, sales, wrong_charges
from posrefund.service.deps import Deps
from posrefund.service.execution import Router
from posrefund.service.refunds import CustomerInput, RefundRequest
from tests.conftest import FixedClock, Merchant, World
from tests.support.fakes import FakeChannel
from tests.support.helpers import captured_again, new_sale

FIXTURES = Path(__file__).parent.parent / "fixtures" / "settlement"
JPEG = b"\xff\xd8\xff\xe0" + b"0" * 64
S = RefundStatus


def bill_for(
    deps: Deps, m: Merchant, tmp: Path, day: date, faults: Faults | None = None, twice: tuple[str, ...] = ()
) -> Path:
    """The WeChat bill the channel would send for what merchant ``m`` recorded on ``day``; the sales named in
    ``twice`` captured a second time."""
    with deps.uow(readonly=True) as uow:
        sale_rows = list(uow.ledger.ledger_sales(m.id, ["wechat"], day, day))
        refund_rows = list(uow.ledger.ledger_refunds(m.id, ["wechat"], day, day))
    sale_rows += [captured_again(row) for row in sale_rows if row["id"] in twice]
    path = tmp / f"wechat-{day}.csv"
    from_ledger(path, "wechat", day, sale_rows, refund_rows, faults or Faults(), {"wechat": FeeRate("wechat", 38)})
    return path


def import_and_run(deps: Deps, actor: Actor, path: Path, day: date) -> dict[str, object]:
    reconciliation.import_file(
        deps,
        actor,
        source="wechat",
        filename=path.name,
        fingerprint=file_fingerprint(path),
        size=path.stat().st_size,
        lines=parse_wechat_bill(path),
    )
    return reconciliation.reconcile(deps, actor, source="wechat", date_from=day, date_to=day)


def test_duplicate_charge_becomes_a_wrong_charge_corrected_through_the_normal_refund(
    deps: Deps, world: World, tmp_path: Path, clock: FixedClock
) -> None:
    m = world.a
    finance = m.actors["finance"]
    twin = new_sale(deps, m, amount_fen=5_000, fee_fen=19, payer_masked="o***7c")
    again = new_sale(  # the same customer buying the same again a minute later: a repeat purchase, no finding
        deps, m, amount_fen=5_000, fee_fen=19, payer_masked="o***7c", paid_at=twin.paid_at + timedelta(seconds=60)
    )
    day = deps.local_date(twin.paid_at)
    run = import_and_run(deps, finance, bill_for(deps, m, tmp_path, day, twice=(twin.id,)), day)
    found, total = reconciliation.list_discrepancies(deps, finance, str(run["id"]))
    assert total == 1
    d = found[0]
    assert (d["class"], d["sale_id"], d["theirs_fen"]) == ("duplicate_charge", twin.id, 5_000)

    receipt = evidence.upload(deps, m.actors["cashier"], content=JPEG, filename="小票.jpg", kind="receipt")
    with pytest.raises(Forbidden):
        wrong_charges.open_case(deps, m.actors["cashier"], int(d["id"]))
    wc = wrong_charges.open_case(
        deps,
        m.actors["risk"],
        int(d["id"]),
        cause="operator_error",
        responsible="merchant_staff",
        analysis="收银员重复刷码",
        evidence_ids=[str(receipt["id"])],
    )
    with pytest.raises(Conflict):
        wrong_charges.open_case(deps, finance, int(d["id"]))  # one discrepancy, one case
    wrong_charges.update_case(
        deps, finance, wc["id"], contact_method="phone", contact_note="已致电顾客致歉，告知原路退回"
    )
    with pytest.raises(Forbidden):
        wrong_charges.start_correction(deps, m.actors["risk"], wc["id"])
    wc, case = wrong_charges.start_correction(deps, finance, wc["id"], customer=CustomerInput(phone="13800138000"))
    assert (case.sale_id, case.amount_fen, case.reason.value, case.status) == (
        twin.id,
        5_000,
        "duplicate_charge",
        S.APPROVED,
    )
    with pytest.raises(Conflict):
        wrong_charges.start_correction(deps, finance, wc["id"])  # never a second correction

    fake = FakeChannel()
    router = Router(channels={"wechat": fake}, is_workday=ChineseCalendar().is_workday)
    execution.sweep(deps, router)
    clock.advance(minutes=2)
    execution.sweep(deps, router)
    done = refunds.get_case(deps, m.actors["auditor"], case.id).case
    assert done.status is S.SUCCEEDED
    assert fake.ledger == {case.refund_no: 5_000}
    assert sales.get_sale(deps, finance, twin.id).refunded_fen == 5_000
    assert sales.get_sale(deps, finance, again.id).refunded_fen == 0

    view = wrong_charges.get_case(deps, finance, wc["id"])
    assert (view["status"], view["correction_refund_id"], view["correction_status"]) == (
        "correcting",
        case.id,
        "succeeded",
    )
    actions = [e["action"] for e in view["events"]]
    assert actions == [
        "wrong_charge.opened",
        "wrong_charge.customer_contacted",
        "wrong_charge.correction_started",
    ]
    opened, _contact, started = (json.loads(e["data"]) for e in view["events"])
    assert (opened["discrepancy_id"], opened["sale_id"]) == (d["id"], twin.id)
    assert opened["evidence_ids"] == [receipt["id"]]
    assert (started["refund_id"], started["discrepancy_id"]) == (case.id, d["id"])
    refund_events = refunds.case_events(deps, m.actors["auditor"], case.id)
    linked = [e for e in refund_events if e["action"] == "wrong_charge.correction_linked"]
    assert linked and json.loads(linked[0]["data"])["wrong_charge_id"] == wc["id"]
    assert [e["after"] for e in refund_events if e["after"]][-1] == "succeeded"
    assert audit.verify(deps, m.actors["auditor"], audit_fields).broken is None


def test_a_refund_the_channel_paid_but_we_lost_is_recovered_never_paid_again(
    deps: Deps, world: World, tmp_path: Path, clock: FixedClock
) -> None:
    m = world.a
    finance = m.actors["finance"]
    sale = new_sale(deps, m, amount_fen=8_000, paid_at=clock.now() - timedelta(minutes=30))
    case = refunds.request_refund(
        deps, m.actors["cashier"], RefundRequest(sale_id=sale.id, amount_fen=3_000, reason="customer_cancelled")
    )
    fake = FakeChannel()
    fake.script[case.refund_no] = ["processing"] + ["timeout"] * 20  # paid at the channel, we never learn it
    router = Router(channels={"wechat": fake}, is_workday=ChineseCalendar().is_workday)
    execution.sweep(deps, router)
    assert refunds.get_case(deps, finance, case.id).case.status is S.PROCESSING
    day = deps.local_date(clock.now())
    run = import_and_run(deps, finance, bill_for(deps, m, tmp_path, day, Faults(refund_status_mismatch=1)), day)
    found, _ = reconciliation.list_discrepancies(deps, finance, str(run["id"]), cls="refund_status_mismatch")
    assert [(d["refund_id"], d["ours_status"], d["theirs_status"]) for d in found] == [
        (case.id, "processing", "SUCCESS")
    ]
    calls = len(fake.calls)

    with pytest.raises(Forbidden):
        reconciliation.recover_refund(deps, m.actors["risk"], int(found[0]["id"]))
    recovered = reconciliation.recover_refund(deps, finance, int(found[0]["id"]))
    assert recovered.status is S.SUCCEEDED
    after = sales.get_sale(deps, finance, sale.id)
    assert (after.refunded_fen, after.reserved_fen) == (3_000, 0)  # settled as the worker settles
    with pytest.raises(Conflict):
        reconciliation.recover_refund(deps, finance, int(found[0]["id"]))
    clock.advance(hours=3)
    execution.sweep(deps, router)
    assert len(fake.calls) == calls  # never sent, never asked again
    events = refunds.case_events(deps, m.actors["auditor"], case.id)
    assert {"refund.succeeded", "recon.refund_recovered"} <= {e["action"] for e in events}
    rerun = reconciliation.reconcile(deps, finance, source="wechat", date_from=day, date_to=day)
    assert rerun["totals"]["open_discrepancies"] == 0 and rerun["changed"]


def test_same_file_twice_is_recognised_and_bad_lines_keep_their_numbers(deps: Deps, world: World) -> None:
    finance = world.a.actors["finance"]
    path = FIXTURES / "card_acquirer.csv"

    def load() -> reconciliation.ImportReport:
        return reconciliation.import_file(
            deps,
            finance,
            source="card",
            filename=path.name,
            fingerprint=file_fingerprint(path),
            size=path.stat().st_size,
            lines=parse_card_settlement(path),
        )

    first = load()
    assert (first.duplicate, first.lines, first.bad_lines) == (False, 5, 3)
    assert [b["line_no"] for b in first.bad] == [6, 7, 8]
    again = load()
    assert (again.duplicate, again.file_id, again.lines) == (True, first.file_id, 5)
    with pytest.raises(Invalid):
        reconciliation.reconcile(deps, finance, source="card", date_from=date(2026, 11, 21), date_to=date(2026, 11, 21))
    with pytest.raises(Forbidden):
        reconciliation.import_file(
            deps, world.a.actors["cashier"], source="card", filename="x", fingerprint="f", size=1, lines=[]
        )
    with pytest.raises(NotFound) as caught:
        reconciliation.get_file(deps, world.b.actors["finance"], first.file_id)  # another merchant's file
    assert caught.value.code == "recon.file_not_found"
