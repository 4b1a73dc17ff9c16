"""Where the merchant itself hears about its device returns and fee refunds: its mobile and email, kept
encrypted with masked copies (only the masked ones are ever shown), and its language. Set by the merchant's
administrator, or by its provider's administrator for a merchant of that provider. Without one, the merchant's
registered phone (if it is a mobile) takes the SMS."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from posrefund.domain.errors import Invalid
from posrefund.domain.pii import mask_phone, normalise_phone
from posrefund.domain.roles import Actor
from posrefund.ports import MerchantContactRow
from posrefund.service.admin import reachable_merchant
from posrefund.service.deps import Deps
from posrefund.service.notifications.settings import EMAIL_FORMAT, mask_email
from posrefund.service.records import record


@dataclass(frozen=True)
class MerchantContactInput:
    phone: str = ""  # "" no mobile of its own
    email: str = ""  # "" no email
    language: str = "zh"


def _shown(row: MerchantContactRow | None, merchant_id: str) -> dict[str, Any]:
    return {
        "merchant_id": merchant_id,
        "language": row["language"] if row else "zh",
        "phone": row["phone_masked"] if row else "",
        "email": row["email_masked"] if row else "",
        "updated_at": row["updated_at"] if row else None,
    }


def merchant_contact(deps: Deps, actor: Actor, merchant_id: str) -> dict[str, Any]:
    """The contact as anyone may see it: masked."""
    actor.require("merchant.contact")
    with deps.uow(readonly=True) as uow:
        reachable_merchant(uow, actor, merchant_id)
        return _shown(uow.notify_settings.merchant_contact(merchant_id), merchant_id)


def set_merchant_contact(deps: Deps, actor: Actor, merchant_id: str, inp: MerchantContactInput) -> dict[str, Any]:
    actor.require("merchant.contact")
    if inp.language not in ("zh", "en"):
        raise Invalid("notify.unknown_language", language=inp.language)
    phone = normalise_phone(inp.phone) if inp.phone.strip() else ""
    email = inp.email.strip()
    if email and not EMAIL_FORMAT.fullmatch(email):
        raise Invalid("notify.invalid_email")
    now = deps.clock.now()
    row: MerchantContactRow = {
        "merchant_id": merchant_id,
        "language": inp.language,
        "phone_enc": deps.cipher.encrypt(phone) if phone else None,
        "phone_masked": mask_phone(phone) if phone else "",
        "email_enc": deps.cipher.encrypt(email) if email else None,
        "email_masked": mask_email(email) if email else "",
        "updated_by": actor.id,
        "updated_at": now,
    }
    with deps.uow() as uow:
        reachable_merchant(uow, actor, merchant_id)
        uow.notify_settings.put_merchant_contact(row)
        record(
            uow, actor, merchant_id, "notify.merchant_contact_changed", now,
            phone=row["phone_masked"], email=row["email_masked"], language=inp.language,
        )  # fmt: skip
        uow.commit()
    return _shown(row, merchant_id)
