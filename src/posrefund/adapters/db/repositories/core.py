"""Repositories over one open connection; they map rows to domain objects and back."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, and_, bindparam, delete, func, insert, select, update

from posrefund.adapters.db import tables
from posrefund.adapters.db.prebuilt import Prebuilt
from posrefund.domain.audit import GENESIS, chain_hash
from posrefund.domain.events import CaseEvent
from posrefund.domain.pii import card_last4
from posrefund.domain.policy import Reason, RefundPolicy
from posrefund.domain.refund import RefundCase
from posrefund.domain.sale import Channel, Sale, SaleKind, SettlementStatus
from posrefund.domain.status import RefundStatus
from posrefund.ports import ConcurrentUpdate, CustomerRecord, RefundQuery, SaleQuery

PLATFORM_CHAIN = "platform"

# Statements on the refund hot path are built once (building them per call, with literal values, cost ~3 ms per
# refund request) and, on SQLite, run straight on the driver's cursor (see prebuilt.py: ~45 µs saved each).
_S, _R, _A, _H, _I = tables.sales.c, tables.refunds.c, tables.audit_events.c, tables.audit_heads.c, tables.idempotency.c
GET_SALE = Prebuilt(select(tables.sales).where(_S.id == bindparam("b_id"), _S.merchant_id == bindparam("b_mid")))
RESERVE = Prebuilt(
    update(tables.sales)
    .where(
        _S.id == bindparam("b_id"),
        _S.refunded_fen + _S.reserved_fen + bindparam("b_amount") <= _S.amount_fen,
        _S.refund_count < bindparam("b_max"),
    )
    .values(reserved_fen=_S.reserved_fen + bindparam("b_amount"), refund_count=_S.refund_count + 1)
)
RELEASE = Prebuilt(
    update(tables.sales)
    .where(_S.id == bindparam("b_id"), _S.reserved_fen >= bindparam("b_amount"))
    .values(reserved_fen=_S.reserved_fen - bindparam("b_amount"), refund_count=_S.refund_count - 1)
)
SETTLE = Prebuilt(
    update(tables.sales)
    .where(_S.id == bindparam("b_id"), _S.reserved_fen >= bindparam("b_amount"))
    .values(reserved_fen=_S.reserved_fen - bindparam("b_amount"), refunded_fen=_S.refunded_fen + bindparam("b_amount"))
)
INSERT_REFUND = Prebuilt(insert(tables.refunds))
GET_CASE = Prebuilt(select(tables.refunds).where(_R.id == bindparam("b_id"), _R.merchant_id == bindparam("b_mid")))
SAVE_CASE = Prebuilt(update(tables.refunds).where(_R.id == bindparam("b_id"), _R.version == bindparam("b_version")))
GET_POLICY = Prebuilt(select(tables.policies.c.document).where(tables.policies.c.merchant_id == bindparam("b_mid")))
AUDIT_HEAD = Prebuilt(select(_H.seq, _H.hash).where(_H.chain == bindparam("b_chain")).with_for_update())
INSERT_HEAD = Prebuilt(insert(tables.audit_heads))
UPDATE_HEAD = Prebuilt(update(tables.audit_heads).where(_H.chain == bindparam("b_chain")))
INSERT_AUDIT = Prebuilt(insert(tables.audit_events))
INSERT_OUTBOX = Prebuilt(insert(tables.outbox))
GET_IDEMPOTENCY = Prebuilt(
    select(tables.idempotency).where(_I.scope == bindparam("b_scope"), _I.key == bindparam("b_key"))
)
INSERT_IDEMPOTENCY = Prebuilt(insert(tables.idempotency))
# Encoders built once: json.dumps with options builds a new encoder on every call.
_event_data = json.JSONEncoder(sort_keys=True, ensure_ascii=False, default=str).encode
_payload = json.JSONEncoder(sort_keys=True, default=str).encode


def _row(r: Any) -> dict[str, Any]:
    return dict(r._mapping)


class MerchantSql:
    def __init__(self, conn: Connection) -> None:
        self.c = conn

    def add_merchant(self, row: dict[str, Any]) -> None:
        self.c.execute(insert(tables.merchants).values(**row))

    def get_merchant(self, merchant_id: str) -> dict[str, Any] | None:
        r = self.c.execute(select(tables.merchants).where(tables.merchants.c.id == merchant_id)).first()
        return _row(r) if r else None

    def merchant_code_taken(self, code: str) -> bool:
        return self.c.execute(select(tables.merchants.c.id).where(tables.merchants.c.code == code)).first() is not None

    def list_merchants(self) -> list[dict[str, Any]]:
        return [_row(r) for r in self.c.execute(select(tables.merchants).order_by(tables.merchants.c.created_at))]

    def add_store(self, row: dict[str, Any]) -> None:
        self.c.execute(insert(tables.stores).values(**row))

    def get_store(self, merchant_id: str, store_id: str) -> dict[str, Any] | None:
        q = select(tables.stores).where(tables.stores.c.id == store_id, tables.stores.c.merchant_id == merchant_id)
        r = self.c.execute(q).first()
        return _row(r) if r else None

    def list_stores(self, merchant_id: str) -> list[dict[str, Any]]:
        q = select(tables.stores).where(tables.stores.c.merchant_id == merchant_id).order_by(tables.stores.c.created_at)
        return [_row(r) for r in self.c.execute(q)]

    def add_terminal(self, row: dict[str, Any]) -> None:
        self.c.execute(insert(tables.terminals).values(**row))

    def get_terminal(self, merchant_id: str, terminal_id: str) -> dict[str, Any] | None:
        q = select(tables.terminals).where(
            tables.terminals.c.id == terminal_id, tables.terminals.c.merchant_id == merchant_id
        )
        r = self.c.execute(q).first()
        return _row(r) if r else None

    def terminal_no_taken(self, merchant_id: str, terminal_no: str) -> bool:
        q = select(tables.terminals.c.id).where(
            tables.terminals.c.merchant_id == merchant_id, tables.terminals.c.terminal_no == terminal_no
        )
        return self.c.execute(q).first() is not None

    def list_terminals(self, merchant_id: str) -> list[dict[str, Any]]:
        q = (
            select(tables.terminals)
            .where(tables.terminals.c.merchant_id == merchant_id)
            .order_by(tables.terminals.c.terminal_no)
        )
        return [_row(r) for r in self.c.execute(q)]


class UserSql:
    def __init__(self, conn: Connection) -> None:
        self.c = conn

    def add_user(self, row: dict[str, Any]) -> None:
        self.c.execute(insert(tables.users).values(**row))

    def by_username(self, username: str) -> dict[str, Any] | None:
        r = self.c.execute(select(tables.users).where(tables.users.c.username == username)).first()
        return _row(r) if r else None

    def get_user(self, user_id: str) -> dict[str, Any] | None:
        r = self.c.execute(select(tables.users).where(tables.users.c.id == user_id)).first()
        return _row(r) if r else None

    def list_users(self, merchant_id: str) -> list[dict[str, Any]]:
        q = select(tables.users).where(tables.users.c.merchant_id == merchant_id).order_by(tables.users.c.username)
        return [_row(r) for r in self.c.execute(q)]

    def record_login_failure(self, user_id: str, failures: int, locked_until: datetime | None) -> None:
        self.c.execute(
            update(tables.users)
            .where(tables.users.c.id == user_id)
            .values(failed_logins=failures, locked_until=locked_until)
        )

    def record_login_success(self, user_id: str) -> None:
        self.c.execute(
            update(tables.users).where(tables.users.c.id == user_id).values(failed_logins=0, locked_until=None)
        )

    def add_api_key(self, row: dict[str, Any]) -> None:
        self.c.execute(insert(tables.api_keys).values(**row))

    def api_key(self, key_id: str) -> dict[str, Any] | None:
        r = self.c.execute(select(tables.api_keys).where(tables.api_keys.c.id == key_id)).first()
        return _row(r) if r else None


class PolicySql:
    def __init__(self, conn: Connection) -> None:
        self.c = conn

    def get_policy(self, merchant_id: str) -> RefundPolicy | None:
        doc = GET_POLICY.run(self.c, {"b_mid": merchant_id}).scalar()
        return _parse_policy(doc) if doc else None

    def put_policy(self, merchant_id: str, policy: RefundPolicy, actor_id: str, now: datetime) -> int:
        doc = json.dumps(policy.to_dict(), sort_keys=True)
        current = self.c.execute(
            select(tables.policies.c.version).where(tables.policies.c.merchant_id == merchant_id).with_for_update()
        ).scalar()
        if current is None:
            self.c.execute(
                insert(tables.policies).values(
                    merchant_id=merchant_id, document=doc, version=1, updated_by=actor_id, updated_at=now
                )
            )
            return 1
        self.c.execute(
            update(tables.policies)
            .where(tables.policies.c.merchant_id == merchant_id)
            .values(document=doc, version=current + 1, updated_by=actor_id, updated_at=now)
        )
        return int(current) + 1


@lru_cache(maxsize=1024)
def _parse_policy(document: str) -> RefundPolicy:
    """Policies are read on every request and change rarely: parse each stored document once."""
    return RefundPolicy.from_dict(json.loads(document))


def sale_from_row(r: Any) -> Sale:
    m = r._mapping
    return Sale(
        id=m["id"],
        merchant_id=m["merchant_id"],
        store_id=m["store_id"],
        terminal_id=m["terminal_id"],
        channel=Channel(m["channel"]),
        kind=SaleKind(m["kind"]),
        amount_fen=m["amount_fen"],
        fee_fen=m["fee_fen"],
        currency=m["currency"],
        paid_at=m["paid_at"],
        settlement_status=SettlementStatus(m["settlement_status"]),
        voucher_no=m["voucher_no"],
        rrn=m["rrn"],
        batch_no=m["batch_no"],
        auth_code=m["auth_code"],
        order_no=m["order_no"],
        payer_masked=m["payer_masked"],
        refunded_fen=m["refunded_fen"],
        reserved_fen=m["reserved_fen"],
        refund_count=m["refund_count"],
    )


class SaleSql:
    def __init__(self, conn: Connection, local_date: Any) -> None:
        self.c = conn
        self._local_date = local_date

    def add_sale(self, sale: Sale, created_at: datetime) -> bool:
        """Insert unless (terminal, batch, voucher) is already recorded; False when it was."""
        dup = self.c.execute(
            select(tables.sales.c.id).where(
                tables.sales.c.terminal_id == sale.terminal_id,
                tables.sales.c.batch_no == sale.batch_no,
                tables.sales.c.voucher_no == sale.voucher_no,
            )
        ).first()
        if dup is not None:
            return False
        self.c.execute(
            insert(tables.sales).values(
                id=sale.id,
                merchant_id=sale.merchant_id,
                store_id=sale.store_id,
                terminal_id=sale.terminal_id,
                voucher_no=sale.voucher_no,
                rrn=sale.rrn,
                batch_no=sale.batch_no,
                auth_code=sale.auth_code,
                order_no=sale.order_no,
                channel=sale.channel.value,
                kind=sale.kind.value,
                amount_fen=sale.amount_fen,
                fee_fen=sale.fee_fen,
                currency=sale.currency,
                paid_at=sale.paid_at,
                paid_date=self._local_date(sale.paid_at),
                settlement_status=sale.settlement_status.value,
                payer_masked=sale.payer_masked,
                card_last4=card_last4(sale.payer_masked),
                refunded_fen=0,
                reserved_fen=0,
                refund_count=0,
                created_at=created_at,
            )
        )
        return True

    def get_sale(self, merchant_id: str, sale_id: str) -> Sale | None:
        r = GET_SALE.run(self.c, {"b_id": sale_id, "b_mid": merchant_id}).first()
        return sale_from_row(r) if r else None

    def find_sales(self, merchant_id: str, query: SaleQuery) -> list[Sale]:
        s = tables.sales.c
        conds = [s.merchant_id == merchant_id]
        if query.voucher_no:
            conds.append(s.voucher_no == query.voucher_no)
        if query.order_no:
            conds.append(s.order_no == query.order_no)
        if query.last4:
            conds.append(s.card_last4 == query.last4)
        if query.amount_fen is not None:
            conds.append(s.amount_fen == query.amount_fen)
        if query.local_date is not None:
            conds.append(s.paid_date == query.local_date)
        q = select(tables.sales).where(and_(*conds)).order_by(s.paid_at.desc(), s.id).limit(query.limit)
        return [sale_from_row(r) for r in self.c.execute(q)]

    def reserve(self, sale_id: str, amount_fen: int, max_refunds: int) -> bool:
        """Atomically hold ``amount_fen`` of the sale; False when it would overdraw or pass the count."""
        result = RESERVE.run(self.c, {"b_id": sale_id, "b_amount": amount_fen, "b_max": max_refunds})
        return result.rowcount == 1

    def release(self, sale_id: str, amount_fen: int) -> None:
        if RELEASE.run(self.c, {"b_id": sale_id, "b_amount": amount_fen}).rowcount != 1:
            raise RuntimeError(f"reservation of sale {sale_id} smaller than {amount_fen}")

    def settle_refund(self, sale_id: str, amount_fen: int) -> None:
        if SETTLE.run(self.c, {"b_id": sale_id, "b_amount": amount_fen}).rowcount != 1:
            raise RuntimeError(f"reservation of sale {sale_id} smaller than {amount_fen}")


def case_from_row(r: Any) -> RefundCase:
    m = r._mapping
    return RefundCase(
        id=m["id"],
        merchant_id=m["merchant_id"],
        store_id=m["store_id"],
        terminal_id=m["terminal_id"],
        sale_id=m["sale_id"],
        refund_no=m["refund_no"],
        amount_fen=m["amount_fen"],
        currency=m["currency"],
        reason=Reason(m["reason"]),
        note=m["note"],
        status=RefundStatus(m["status"]),
        requested_by=m["requested_by"],
        requested_role=m["requested_role"],
        created_at=m["created_at"],
        updated_at=m["updated_at"],
        required_approvals=m["required_approvals"],
        approved_by=json.loads(m["approved_by"]),
        review_reason=m["review_reason"],
        evidence_ids=json.loads(m["evidence_ids"]),
        channel=m["channel"],
        method=m["method"],
        attempts=m["attempts"],
        submitted=bool(m["submitted"]),
        channel_refund_id=m["channel_refund_id"],
        last_code=m["last_code"],
        next_check_at=m["next_check_at"],
        checks=m["checks"],
        sent_at=m["sent_at"],
        succeeded_at=m["succeeded_at"],
        expected_arrival=m["expected_arrival"],
        version=m["version"],
    )


def _customer_from(m: Any) -> CustomerRecord:
    return CustomerRecord(
        phone_enc=m["customer_phone_enc"],
        phone_index=m["customer_phone_index"],
        phone_masked=m["customer_phone_masked"],
        name_enc=m["customer_name_enc"],
        name_masked=m["customer_name_masked"],
        id_no_enc=m["customer_id_no_enc"],
        id_no_masked=m["customer_id_no_masked"],
    )


class RefundSql:
    def __init__(self, conn: Connection) -> None:
        self.c = conn

    def add_case(self, case: RefundCase, customer: CustomerRecord) -> None:
        INSERT_REFUND.run(
            self.c,
            {
                "id": case.id,
                "merchant_id": case.merchant_id,
                "store_id": case.store_id,
                "terminal_id": case.terminal_id,
                "sale_id": case.sale_id,
                "refund_no": case.refund_no,
                "amount_fen": case.amount_fen,
                "currency": case.currency,
                "reason": case.reason.value,
                "note": case.note,
                "status": case.status.value,
                "channel": case.channel,
                "requested_by": case.requested_by,
                "requested_role": case.requested_role,
                "required_approvals": case.required_approvals,
                "approved_by": json.dumps(case.approved_by),
                "review_reason": case.review_reason,
                "evidence_ids": json.dumps(case.evidence_ids),
                "customer_phone_enc": customer.phone_enc,
                "customer_phone_index": customer.phone_index,
                "customer_phone_masked": customer.phone_masked,
                "customer_name_enc": customer.name_enc,
                "customer_name_masked": customer.name_masked,
                "customer_id_no_enc": customer.id_no_enc,
                "customer_id_no_masked": customer.id_no_masked,
                "version": 1,
                "created_at": case.created_at,
                "updated_at": case.updated_at,
            },
        )
        case.version = 1

    def get_case(self, merchant_id: str, case_id: str) -> RefundCase | None:
        r = GET_CASE.run(self.c, {"b_id": case_id, "b_mid": merchant_id}).first()
        return case_from_row(r) if r else None

    def save_case(self, case: RefundCase) -> None:
        """Compare-and-set on the version read: a lost race raises instead of overwriting."""
        result = SAVE_CASE.run(
            self.c,
            {
                "b_id": case.id,
                "b_version": case.version,
                "status": case.status.value,
                "approved_by": json.dumps(case.approved_by),
                "review_reason": case.review_reason,
                "updated_at": case.updated_at,
                "method": case.method,
                "attempts": case.attempts,
                "submitted": case.submitted,
                "channel_refund_id": case.channel_refund_id,
                "last_code": case.last_code,
                "next_check_at": case.next_check_at,
                "checks": case.checks,
                "sent_at": case.sent_at,
                "succeeded_at": case.succeeded_at,
                "expected_arrival": case.expected_arrival,
                "version": case.version + 1,
            },
        )
        if result.rowcount != 1:
            raise ConcurrentUpdate(case.id)
        case.version += 1

    def get_by_refund_no(self, refund_no: str) -> RefundCase | None:
        r = self.c.execute(select(tables.refunds).where(tables.refunds.c.refund_no == refund_no)).first()
        return case_from_row(r) if r else None

    def due(self, now: datetime, limit: int) -> list[tuple[str, str]]:
        """(merchant, case) pairs the worker must move: approved and not yet handed over, or in flight and
        due for a look. Our own table is the queue, so nothing is lost with a dead worker."""
        r = tables.refunds.c
        q = (
            select(r.merchant_id, r.id)
            .where(
                (r.status == "approved")
                | ((r.status == "processing") & (r.next_check_at.is_not(None)) & (r.next_check_at <= now))
            )
            .order_by(r.updated_at)
            .limit(limit)
        )
        return [(str(row[0]), str(row[1])) for row in self.c.execute(q)]

    def last_sent_for_sale(self, sale_id: str, other_than: str) -> datetime | None:
        """When another refund of the same sale was last sent: channels want a gap between them."""
        r = tables.refunds.c
        q = select(func.max(r.sent_at)).where(r.sale_id == sale_id, r.id != other_than)
        value = self.c.execute(q).scalar()  # max() keeps the column's type, so this is an aware datetime
        assert value is None or isinstance(value, datetime)
        return value

    def customer(self, case_id: str) -> CustomerRecord:
        r = self.c.execute(select(tables.refunds).where(tables.refunds.c.id == case_id)).first()
        assert r is not None
        return _customer_from(r._mapping)

    def customers_masked(self, case_ids: Sequence[str]) -> dict[str, CustomerRecord]:
        if not case_ids:
            return {}
        rows = self.c.execute(select(tables.refunds).where(tables.refunds.c.id.in_(list(case_ids))))
        return {r._mapping["id"]: _customer_from(r._mapping) for r in rows}

    def list_cases(self, merchant_id: str, query: RefundQuery) -> tuple[list[RefundCase], int]:
        r = tables.refunds.c
        conds = [r.merchant_id == merchant_id]
        if query.status:
            conds.append(r.status == query.status)
        if query.store_id:
            conds.append(r.store_id == query.store_id)
        if query.terminal_id:
            conds.append(r.terminal_id == query.terminal_id)
        if query.sale_id:
            conds.append(r.sale_id == query.sale_id)
        if query.phone_index:
            conds.append(r.customer_phone_index == query.phone_index)
        if query.created_from:
            conds.append(r.created_at >= query.created_from)
        if query.created_to:
            conds.append(r.created_at < query.created_to)
        where = and_(*conds)
        total = int(self.c.execute(select(func.count()).select_from(tables.refunds).where(where)).scalar() or 0)
        order = (r.created_at.asc(), r.id) if query.oldest_first else (r.created_at.desc(), r.id)
        q = select(tables.refunds).where(where).order_by(*order).limit(query.limit).offset(query.offset)
        return [case_from_row(row) for row in self.c.execute(q)], total


class EvidenceSql:
    def __init__(self, conn: Connection) -> None:
        self.c = conn

    def add_evidence(self, row: dict[str, Any]) -> None:
        self.c.execute(insert(tables.evidence).values(**row))

    def evidence_rows(self, merchant_id: str, ids: Iterable[str]) -> list[dict[str, Any]]:
        wanted = list(ids)
        if not wanted:
            return []
        q = select(tables.evidence).where(
            tables.evidence.c.merchant_id == merchant_id, tables.evidence.c.id.in_(wanted)
        )
        return [_row(r) for r in self.c.execute(q)]


def audit_fields(row: dict[str, Any]) -> dict[str, Any]:
    """What the hash covers: every column but the id and the hashes themselves."""
    at = row["at"]
    return {
        "chain": row["chain"],
        "seq": row["seq"],
        "case_id": row["case_id"],
        "action": row["action"],
        "actor_id": row["actor_id"],
        "actor_role": row["actor_role"],
        "at": at.isoformat(timespec="microseconds") if isinstance(at, datetime) else str(at),
        "before": row["before"],
        "after": row["after"],
        "reason": row["reason"],
        "data": row["data"],
    }


class AuditSql:
    def __init__(self, conn: Connection) -> None:
        self.c = conn

    def append(self, merchant_id: str | None, case_id: str | None, event: CaseEvent) -> None:
        self.append_many(merchant_id, case_id, [event])

    def append_many(self, merchant_id: str | None, case_id: str | None, events: Sequence[CaseEvent]) -> None:
        """Chain the events after the merchant's head; the head row is locked so concurrent writers queue."""
        if not events:
            return
        chain = merchant_id or PLATFORM_CHAIN
        head = AUDIT_HEAD.run(self.c, {"b_chain": chain}).first()
        seq, prev = (0, GENESIS) if head is None else (int(head.seq), str(head.hash))
        rows = []
        for event in events:
            seq += 1
            row: dict[str, Any] = {
                "chain": chain,
                "seq": seq,
                "case_id": case_id,
                "action": event.action,
                "actor_id": event.actor.id,
                "actor_role": event.actor.role.value,
                "at": event.at,
                "before": event.before,
                "after": event.after,
                "reason": event.reason,
                "data": _event_data(event.data),
            }
            row["prev_hash"] = prev
            row["hash"] = prev = chain_hash(prev, audit_fields(row))
            rows.append(row)
        INSERT_AUDIT.run(self.c, rows)
        if head is None:
            INSERT_HEAD.run(self.c, {"chain": chain, "seq": seq, "hash": prev})
        else:
            UPDATE_HEAD.run(self.c, {"b_chain": chain, "seq": seq, "hash": prev})

    def case_events(self, merchant_id: str, case_id: str) -> list[dict[str, Any]]:
        a = tables.audit_events.c
        q = select(tables.audit_events).where(a.chain == merchant_id, a.case_id == case_id).order_by(a.seq)
        return [_row(r) for r in self.c.execute(q)]

    def chains(self) -> list[str]:
        q = select(tables.audit_events.c.chain).distinct().order_by(tables.audit_events.c.chain)
        return [str(r[0]) for r in self.c.execute(q)]

    def iter_chain(self, chain: str) -> Iterator[dict[str, Any]]:
        """Every event of one chain in order, streamed so a long history needs little memory."""
        a = tables.audit_events.c
        q = select(tables.audit_events).where(a.chain == chain).order_by(a.seq)
        for r in self.c.execution_options(yield_per=2000).execute(q):
            yield _row(r)


class OutboxSql:
    def __init__(self, conn: Connection) -> None:
        self.c = conn

    def put(self, topic: str, merchant_id: str, case_id: str | None, payload: dict[str, Any], now: datetime) -> None:
        self.put_many([(topic, merchant_id, case_id, payload, now)])

    def put_many(self, items: Sequence[tuple[str, str, str | None, dict[str, Any], datetime]]) -> None:
        if not items:
            return
        INSERT_OUTBOX.run(
            self.c,
            [
                {
                    "topic": topic,
                    "merchant_id": mid,
                    "case_id": cid,
                    "created_at": now,
                    "available_at": now,
                    "payload": _payload(payload),
                    "attempts": 0,
                }
                for topic, mid, cid, payload, now in items
            ],
        )


class CallbackSql:
    def __init__(self, conn: Connection) -> None:
        self.c = conn

    def first_time(self, channel: str, notice_id: str, refund_no: str, now: datetime) -> bool:
        """Record a notification id; False when it was seen before (a duplicate callback)."""
        cb = tables.callback_notices.c
        seen = self.c.execute(select(cb.notice_id).where(cb.channel == channel, cb.notice_id == notice_id)).first()
        if seen is not None:
            return False
        self.c.execute(
            insert(tables.callback_notices).values(
                channel=channel, notice_id=notice_id, refund_no=refund_no, received_at=now
            )
        )
        return True


class CalendarSql:
    def __init__(self, conn: Connection) -> None:
        self.c = conn

    def overrides(self) -> dict[date, bool]:
        rows = self.c.execute(select(tables.calendar_overrides.c.day, tables.calendar_overrides.c.workday))
        return {row[0]: bool(row[1]) for row in rows}

    def put_override(self, day: date, workday: bool, note: str, actor_id: str, now: datetime) -> None:
        co = tables.calendar_overrides.c
        self.c.execute(delete(tables.calendar_overrides).where(co.day == day))
        self.c.execute(
            insert(tables.calendar_overrides).values(
                day=day, workday=workday, note=note, updated_by=actor_id, updated_at=now
            )
        )


class IdempotencySql:
    def __init__(self, conn: Connection) -> None:
        self.c = conn

    def lookup(self, scope: str, key: str) -> dict[str, Any] | None:
        r = GET_IDEMPOTENCY.run(self.c, {"b_scope": scope, "b_key": key}).first()
        return _row(r) if r else None

    def save(self, scope: str, key: str, request_hash: str, status: int, body: bytes, now: datetime) -> None:
        INSERT_IDEMPOTENCY.run(
            self.c,
            {
                "scope": scope,
                "key": key,
                "request_hash": request_hash,
                "status_code": status,
                "body": body,
                "created_at": now,
            },
        )
