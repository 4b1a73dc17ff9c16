"""The refund use cases against a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import text, update
from sqlalchemy.exc import IntegrityError

from posrefund.adapters.db import tables
from posrefund.bootstrap import engine_of
from posrefund.domain.errors import DomainError, Forbidden, Invalid, NotFound
from posrefund.domain.refund import RefundStatus
from posrefund.service import policies, refunds, sales
from posrefund.service.deps import Deps
from posrefund.service.refunds import CustomerInput, RefundRequest
from tests.conftest import World
from tests.support.helpers import new_sale

S = RefundStatus


def ask(deps: Deps, world: World, sale_id: str, amount: int, who: str = "cashier", **kw: object) -> refunds.RefundCase:
    return refunds.request_refund(
        deps, world.a.actors[who], RefundRequest(sale_id=sale_id, amount_fen=amount, reason="customer_cancelled", **kw)
    )


def test_small_refund_is_auto_approved_and_reserved(deps: Deps, world: World) -> None:
    sale = new_sale(deps, world.a)
    case = ask(deps, world, sale.id, 3_000)
    assert case.status is S.APPROVED and case.refund_no.startswith("RF20261120")
    fresh = sales.get_sale(deps, world.a.actors["cashier"], sale.id)
    assert (fresh.reserved_fen, fresh.refundable_fen, fresh.refund_count) == (3_000, 7_000, 1)
    events = refunds.case_events(deps, world.a.actors["auditor"], case.id)
    assert [(e["action"], e["before"], e["after"]) for e in events] == [
        ("refund.requested", None, "requested"),
        ("refund.auto_approved", "requested", "approved"),
    ]
    assert events[0]["actor_id"] == world.a.actors["cashier"].id and events[1]["actor_role"] == "system"


def test_review_then_reject_releases_the_reservation(deps: Deps, world: World) -> None:
    sale = new_sale(deps, world.a, amount_fen=50_000)
    case = ask(deps, world, sale.id, 40_000)
    assert case.status is S.PENDING_REVIEW
    queue, total = refunds.pending_review(deps, world.a.actors["supervisor"])
    assert total == 1 and queue[0].case.id == case.id
    done = refunds.reject(deps, world.a.actors["supervisor"], case.id, "商品已使用")
    assert done.status is S.REJECTED and done.review_reason == "商品已使用"
    fresh = sales.get_sale(deps, world.a.actors["cashier"], sale.id)
    assert (fresh.reserved_fen, fresh.refund_count, fresh.refundable_fen) == (0, 0, 50_000)


def test_cashier_cannot_approve_and_nobody_approves_their_own(deps: Deps, world: World) -> None:
    sale = new_sale(deps, world.a, amount_fen=50_000)
    case = ask(deps, world, sale.id, 40_000, who="supervisor")
    with pytest.raises(Forbidden) as e:
        refunds.approve(deps, world.a.actors["cashier"], case.id)
    assert e.value.code == "auth.forbidden"
    with pytest.raises(Forbidden) as e:
        refunds.approve(deps, world.a.actors["supervisor"], case.id)
    assert e.value.code == "review.self_approval"
    assert refunds.approve(deps, world.a.actors["supervisor2"], case.id).status is S.APPROVED


def test_two_person_rule(deps: Deps, world: World) -> None:
    policies.put_policy(deps, world.a.actors["admin"], {"two_person_limit_fen": 20_000})
    sale = new_sale(deps, world.a, amount_fen=100_000)
    case = ask(deps, world, sale.id, 30_000)
    assert case.required_approvals == 2
    assert refunds.approve(deps, world.a.actors["supervisor"], case.id).status is S.PENDING_REVIEW
    with pytest.raises(Forbidden) as e:
        refunds.approve(deps, world.a.actors["supervisor"], case.id)
    assert e.value.code == "review.second_approver_required"
    final = refunds.approve(deps, world.a.actors["admin"], case.id, "复核")
    assert final.status is S.APPROVED and len(final.approved_by) == 2


def test_cancel_by_requester_before_execution_only(deps: Deps, world: World) -> None:
    sale = new_sale(deps, world.a, amount_fen=50_000)
    case = ask(deps, world, sale.id, 40_000)
    with pytest.raises(Forbidden):
        refunds.cancel(deps, world.a.actors["customer_service"], case.id)
    assert refunds.cancel(deps, world.a.actors["cashier"], case.id, "顾客撤回").status is S.CANCELLED
    with pytest.raises(DomainError) as e:
        refunds.cancel(deps, world.a.actors["cashier"], case.id)
    assert e.value.code == "state.invalid_transition"
    assert sales.get_sale(deps, world.a.actors["cashier"], sale.id).reserved_fen == 0


def test_policy_refusal_names_the_rule_and_changes_nothing(deps: Deps, world: World) -> None:
    policies.put_policy(deps, world.a.actors["admin"], {"refund_window_days": 7})
    sale = new_sale(deps, world.a, paid_at=deps.clock.now() - timedelta(days=8))
    with pytest.raises(Invalid) as e:
        ask(deps, world, sale.id, 100)
    assert e.value.code == "policy.window_expired" and e.value.params["window_days"] == 7
    with pytest.raises(Invalid) as e:
        ask(deps, world, new_sale(deps, world.a).id, 10_001)
    assert e.value.code == "refund.exceeds_refundable"
    _views, total = refunds.list_cases(deps, world.a.actors["auditor"], refunds.RefundQuery())
    assert total == 0


def test_other_merchants_objects_do_not_exist(deps: Deps, world: World) -> None:
    sale = new_sale(deps, world.a)
    case = ask(deps, world, sale.id, 100)
    other = world.b.actors
    with pytest.raises(NotFound):
        sales.get_sale(deps, other["cashier"], sale.id)
    with pytest.raises(NotFound):
        refunds.get_case(deps, other["supervisor"], case.id)
    with pytest.raises(NotFound):
        refunds.request_refund(deps, other["cashier"], RefundRequest(sale_id=sale.id, amount_fen=1, reason="other"))


def test_customer_contact_is_encrypted_masked_and_reveal_is_audited(deps: Deps, world: World) -> None:
    sale = new_sale(deps, world.a)
    case = ask(
        deps,
        world,
        sale.id,
        100,
        customer=CustomerInput(phone="13812345678", name="张三丰", id_no="11010519491231002X"),
    )
    view = refunds.get_case(deps, world.a.actors["cashier"], case.id)
    assert (view.customer.phone_masked, view.customer.name_masked, view.customer.id_no_masked) == (
        "138****5678",
        "张**",
        "110***********002X",
    )
    with engine_of(deps).connect() as c:
        dump = " ".join(str(v) for row in c.execute(text("SELECT * FROM refunds")) for v in row)
    assert "13812345678" not in dump and "11010519491231002X" not in dump and "张三丰" not in dump
    with pytest.raises(Forbidden):
        refunds.reveal_customer(deps, world.a.actors["cashier"], case.id, "call back")
    clear = refunds.reveal_customer(deps, world.a.actors["customer_service"], case.id, "回访顾客")
    assert clear == {"phone": "13812345678", "name": "张三丰", "id_no": "11010519491231002X"}
    last = refunds.case_events(deps, world.a.actors["auditor"], case.id)[-1]
    assert (last["action"], last["actor_role"], last["reason"]) == ("customer.revealed", "customer_service", "回访顾客")
    found = refunds.find_by_phone(deps, world.a.actors["customer_service"], "138 1234 5678")
    assert [v.case.id for v in found] == [case.id]


def test_evidence_required_by_policy(deps: Deps, world: World, tmp_path: object) -> None:
    from posrefund.service import evidence

    policies.put_policy(deps, world.a.actors["admin"], {"evidence_required": {"goods_quality": ["receipt"]}})
    sale = new_sale(deps, world.a)
    req = RefundRequest(sale_id=sale.id, amount_fen=100, reason="goods_quality")
    with pytest.raises(Invalid) as e:
        refunds.request_refund(deps, world.a.actors["cashier"], req)
    assert e.value.code == "policy.evidence_required" and e.value.params["missing"] == ["receipt"]
    ev = evidence.upload(
        deps, world.a.actors["cashier"], content=b"\xff\xd8\xff\xe0fakejpeg", filename="小票.jpg", kind="receipt"
    )
    case = refunds.request_refund(
        deps,
        world.a.actors["cashier"],
        RefundRequest(sale_id=sale.id, amount_fen=100, reason="goods_quality", evidence_ids=(ev["id"],)),
    )
    assert case.evidence_ids == [ev["id"]]
    with pytest.raises(Invalid) as e:
        evidence.upload(deps, world.a.actors["cashier"], content=b"MZ\x90\x00", filename="x.exe", kind="receipt")
    assert e.value.code == "evidence.type_not_allowed"
    with pytest.raises(Invalid):  # another merchant's evidence cannot be attached
        refunds.request_refund(
            deps,
            world.b.actors["cashier"],
            RefundRequest(sale_id=new_sale(deps, world.b).id, amount_fen=1, reason="other", evidence_ids=(ev["id"],)),
        )


def test_partial_refunds_up_to_the_policy_count(deps: Deps, world: World) -> None:
    policies.put_policy(deps, world.a.actors["admin"], {"max_partial_refunds": 3})
    sale = new_sale(deps, world.a)
    for _ in range(3):
        ask(deps, world, sale.id, 100)
    with pytest.raises(Invalid) as e:
        ask(deps, world, sale.id, 100)
    assert e.value.code == "policy.partial_limit"


def test_fifty_concurrent_requests_never_over_refund(deps: Deps, world: World) -> None:
    """50 threads, each on its own connection, ask 30.00 of a 100.00 sale: exactly 3 win."""
    policies.put_policy(deps, world.a.actors["admin"], {"auto_approve_limit_fen": 5_000})
    sale = new_sale(deps, world.a, amount_fen=10_000)

    def one(_: int) -> str:
        try:
            ask(deps, world, sale.id, 3_000)
            return "ok"
        except DomainError as exc:
            return exc.code

    with ThreadPoolExecutor(max_workers=50) as pool:
        results = list(pool.map(one, range(50)))
    assert results.count("ok") == 3
    assert set(results) - {"ok"} == {"refund.exceeds_refundable"}
    fresh = sales.get_sale(deps, world.a.actors["cashier"], sale.id)
    assert (fresh.reserved_fen, fresh.refundable_fen, fresh.refund_count) == (9_000, 1_000, 3)


def test_database_check_constraint_refuses_over_refund(deps: Deps, world: World) -> None:
    sale = new_sale(deps, world.a, amount_fen=10_000)
    with pytest.raises(IntegrityError), engine_of(deps).begin() as c:
        c.execute(
            update(tables.sales).where(tables.sales.c.id == sale.id).values(refunded_fen=6_000, reserved_fen=4_001)
        )
    with pytest.raises(IntegrityError), engine_of(deps).begin() as c:
        c.execute(update(tables.sales).where(tables.sales.c.id == sale.id).values(reserved_fen=-1))


def test_a_new_merchants_default_policy_auto_approves_nothing(deps: Deps, world: World) -> None:
    from posrefund.domain.roles import Actor, Role
    from posrefund.service import admin
    from tests.conftest import Merchant

    m = admin.create_merchant(deps, world.provider, code="FRESH", name="新商户")
    boss = Actor("boss", Role.ADMIN, m["id"])
    store = admin.create_store(deps, boss, name="店")
    term = admin.create_terminal(deps, boss, store_id=store["id"], terminal_no="F1", device_sn="SNF")
    fresh = Merchant(
        id=m["id"], store_id=store["id"], terminal_id=term["id"], actors={"cashier": Actor("c", Role.CASHIER, m["id"])}
    )
    assert policies.get_policy(deps, boss).auto_approve_limit_fen == 0
    sale = new_sale(deps, fresh, amount_fen=100)
    case = refunds.request_refund(deps, Actor("c", Role.CASHIER, m["id"]), RefundRequest(sale.id, 1, "other"))
    assert case.status is S.PENDING_REVIEW  # even one fen waits for a supervisor


def test_the_sale_and_its_merchants_policy_are_read_together(deps: Deps, world: World) -> None:
    """The policy as stored now (no copy kept between requests), the merchant's own, and nothing for a sale
    of another merchant."""
    sale = new_sale(deps, world.a)
    with deps.uow() as uow:
        found = uow.sales.get_sale_and_policy(world.a.id, sale.id)
        assert found is not None and found[0] == uow.sales.get_sale(world.a.id, sale.id)
        stored = found[1]
        assert uow.sales.get_sale_and_policy(world.b.id, sale.id) is None
    policies.put_policy(deps, world.a.actors["admin"], {"max_partial_refunds": 2})
    with deps.uow() as uow:
        found = uow.sales.get_sale_and_policy(world.a.id, sale.id)
    assert found is not None and found[1] is not None and found[1].max_partial_refunds == 2
    assert found[1] != stored
