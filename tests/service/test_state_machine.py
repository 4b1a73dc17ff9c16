"""Hypothesis drives random request / approve / reject / cancel sequences against the real database and
checks after every step that no sale is over-refunded and that terminal states stay terminal."""

from __future__ import annotations

import itertools

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from posrefund.domain.errors import DomainError
from posrefund.domain.refund import TERMINAL, RefundStatus
from posrefund.domain.roles import Actor, Role
from posrefund.service import admin, policies, refunds, sales
from posrefund.service.deps import Deps
from posrefund.service.refunds import RefundRequest
from tests.conftest import Merchant
from tests.support.helpers import sale_input

_codes = itertools.count()


def machine_for(deps: Deps) -> type[RuleBasedStateMachine]:
    class Refunds(RuleBasedStateMachine):
        sales_ = Bundle("sales")
        cases = Bundle("cases")

        def __init__(self) -> None:
            super().__init__()
            provider = Actor("p", Role.PROVIDER_ADMIN, None)
            m = admin.create_merchant(deps, provider, code=f"H{next(_codes)}", name="h")
            boss = Actor("boss", Role.ADMIN, m["id"])
            store = admin.create_store(deps, boss, name="s")
            term = admin.create_terminal(deps, boss, store_id=store["id"], terminal_no="T1", device_sn="SN")
            policies.put_policy(
                deps,
                boss,
                {
                    "auto_approve_limit_fen": 2_000,
                    "two_person_limit_fen": 6_000,
                    "supervisor_limit_fen": 8_000,
                    "max_partial_refunds": 4,
                },
            )
            self.m = Merchant(id=m["id"], store_id=store["id"], terminal_id=term["id"])
            mid = m["id"]
            self.people = {
                "cashier": Actor("c1", Role.CASHIER, mid),
                "cashier2": Actor("c2", Role.CASHIER, mid),
                "sup": Actor("s1", Role.SUPERVISOR, mid),
                "sup2": Actor("s2", Role.SUPERVISOR, mid),
                "admin": Actor("a1", Role.ADMIN, mid),
            }
            self.seen: dict[str, RefundStatus] = {}
            self.sale_ids: list[str] = []

        @rule(target=sales_, amount=st.integers(1, 12_000))
        def new_sale(self, amount: int) -> str:
            sale = sales.record_sale(
                deps, self.people["admin"], sale_input(self.m, deps.clock.now(), amount_fen=amount, fee_fen=0)
            )
            self.sale_ids.append(sale.id)
            return sale.id

        @rule(
            target=cases,
            sale=sales_,
            amount=st.integers(1, 12_000),
            who=st.sampled_from(["cashier", "cashier2", "sup"]),
        )
        def request(self, sale: str, amount: int, who: str) -> str:
            try:
                case = refunds.request_refund(
                    deps, self.people[who], RefundRequest(sale_id=sale, amount_fen=amount, reason="other")
                )
            except DomainError as exc:
                assert exc.code in {"refund.exceeds_refundable", "policy.partial_limit"}
                return ""
            self.seen[case.id] = case.status
            return case.id

        @rule(case=cases, who=st.sampled_from(["sup", "sup2", "admin", "cashier"]))
        def approve(self, case: str, who: str) -> None:
            self._act(case, lambda: refunds.approve(deps, self.people[who], case, "ok"))

        @rule(case=cases, who=st.sampled_from(["sup", "admin"]))
        def reject(self, case: str, who: str) -> None:
            self._act(case, lambda: refunds.reject(deps, self.people[who], case, "no"))

        @rule(case=cases, who=st.sampled_from(["cashier", "cashier2", "sup"]))
        def cancel(self, case: str, who: str) -> None:
            self._act(case, lambda: refunds.cancel(deps, self.people[who], case, ""))

        def _act(self, case: str, fn: object) -> None:
            if not case:
                return
            before = self.seen[case]
            try:
                after = fn().status  # type: ignore[operator]
            except DomainError:
                after = refunds.get_case(deps, self.people["admin"], case).case.status
            if before in TERMINAL:
                assert after == before, f"terminal {before} became {after}"
            self.seen[case] = after

        @invariant()
        def never_over_refunded(self) -> None:
            for sale_id in self.sale_ids:
                sale = sales.get_sale(deps, self.people["admin"], sale_id)
                views, _ = refunds.list_cases(
                    deps, self.people["admin"], refunds.RefundQuery(sale_id=sale_id, limit=200)
                )
                holding = [v.case for v in views if v.case.holds_reservation]
                assert 0 <= sale.refunded_fen + sale.reserved_fen <= sale.amount_fen
                assert sale.reserved_fen == sum(c.amount_fen for c in holding)
                assert sale.refund_count == len(holding)

    return Refunds


def test_random_review_sequences_keep_the_invariants(deps: Deps) -> None:
    run_state_machine_as_test(
        machine_for(deps),
        settings=settings(
            max_examples=25, stateful_step_count=25, deadline=None, suppress_health_check=list(HealthCheck)
        ),
    )
