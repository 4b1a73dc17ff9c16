"""What every use case needs, handed over by bootstrap (real adapters) or by tests (fakes at the edges)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

from posrefund.domain.audit import Keyring
from posrefund.ports import Cipher, Clock, EvidenceStore, Ids, PasswordHasher, UnitOfWorkFactory
from posrefund.ports.documents import PdfRenderer
from posrefund.service.notifications.template_filters import MAX_MESSAGE


@dataclass(frozen=True)
class Deps:
    uow: UnitOfWorkFactory
    clock: Clock
    ids: Ids
    cipher: Cipher
    hasher: PasswordHasher
    evidence_store: EvidenceStore
    local_date: Callable[[datetime], date]
    secret_key: str
    # Signs the audit checkpoints (POSREFUND_AUDIT_KEY, kept outside the database); empty: none can be taken.
    audit_keys: Keyring = field(default=(), repr=False)
    # Failpoints: named places where a crash test may kill the process (no-op unless bootstrap arms one).
    failpoint: Callable[[str], None] = lambda _name: None
    # The longest subject or text a notification template may render, in characters (configurable).
    message_limit: int = MAX_MESSAGE
    # Printable documents (PDF with an embedded CJK font); None: documents cannot be printed here.
    pdf: PdfRenderer | None = None
    # Business days a bank has to answer a refund application (退费申请), counted on the Chinese calendar.
    bank_answer_days: int = 15
    # The merchants' time zone (POSREFUND_TIMEZONE): a time an import writes without its offset is read in it.
    time_zone: str = "Asia/Shanghai"
