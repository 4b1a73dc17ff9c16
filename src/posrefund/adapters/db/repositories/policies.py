"""Each merchant's refund policy, stored as one JSON document with a version."""

from __future__ import annotations

import json
from datetime import datetime
from functools import lru_cache

from sqlalchemy import bindparam, insert, select, update

from posrefund.adapters.db import tables
from posrefund.adapters.db.prebuilt import Prebuilt
from posrefund.adapters.db.repositories.rows import Repository
from posrefund.domain.policy import RefundPolicy

_P = tables.policies.c
# Read on every refund request: built once, run on the driver's cursor (see prebuilt.py).
GET_POLICY = Prebuilt(select(_P.document).where(_P.merchant_id == bindparam("b_mid")))


class PolicySql(Repository):
    def get_policy(self, merchant_id: str) -> RefundPolicy | None:
        doc = GET_POLICY.run(self.c, {"b_mid": merchant_id}).scalar()
        return parse_policy(doc) if doc else None

    def put_policy(self, merchant_id: str, policy: RefundPolicy, actor_id: str, now: datetime) -> int:
        doc = json.dumps(policy.to_dict(), sort_keys=True)
        current = self.c.execute(select(_P.version).where(_P.merchant_id == merchant_id).with_for_update()).scalar()
        if current is None:
            self.c.execute(
                insert(tables.policies).values(
                    merchant_id=merchant_id, document=doc, version=1, updated_by=actor_id, updated_at=now
                )
            )
            return 1
        self.c.execute(
            update(tables.policies)
            .where(_P.merchant_id == merchant_id)
            .values(document=doc, version=current + 1, updated_by=actor_id, updated_at=now)
        )
        return int(current) + 1


@lru_cache(maxsize=1024)
def parse_policy(document: str) -> RefundPolicy:
    """Policies are read on every request and change rarely: parse each stored document once."""
    return RefundPolicy.from_dict(json.loads(document))
