"""Uploaded evidence: the file's metadata; the bytes live in the content-addressed store."""

from __future__ import annotations

from collections.abc import Iterable
from typing import cast

from sqlalchemy import insert, select

from posrefund.adapters.db import tables
from posrefund.adapters.db.repositories.rows import Repository, all_rows
from posrefund.ports import EvidenceRow

_E = tables.evidence.c


class EvidenceSql(Repository):
    def add_evidence(self, row: EvidenceRow) -> None:
        self.c.execute(insert(tables.evidence).values(**row))

    def evidence_rows(self, merchant_id: str, ids: Iterable[str]) -> list[EvidenceRow]:
        wanted = list(ids)
        if not wanted:
            return []
        q = select(tables.evidence).where(_E.merchant_id == merchant_id, _E.id.in_(wanted))
        return cast(list[EvidenceRow], all_rows(self.c, q))
