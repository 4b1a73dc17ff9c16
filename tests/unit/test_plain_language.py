"""Every error message, as a Chinese reader gets it from the API, the console or the CLI: filled with the
values a real refusal carries, it shows no raw code, no amount in fen and no untranslated English word.

The values are the machine's (``amount_fen=12000``, ``current="approved"``, ``role="cashier"``); the wording
layer must turn them into ``¥120.00``, ``已批准`` and ``收银员``. A value that echoes what the person typed
(an unknown currency, a misspelt role) is shown as typed: the sample for those is Chinese text, so only the
message's own words are judged."""

from __future__ import annotations

import ast
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from posrefund.domain.roles import PERMISSIONS
from posrefund.entrypoints.console.texts import LABELS
from posrefund.entrypoints.wording import message
from posrefund.i18n.messages import MESSAGES
from posrefund.service.risk.rules import RULES
from tests.support.plain_language import problems_in_chinese

SRC = Path(__file__).parents[2] / "src" / "posrefund"
ECHO = "（所填内容）"  # what the person typed, shown back as typed
AT = datetime(2026, 11, 20, 8, 30, tzinfo=UTC)

# The value a refusal really carries under each name, as the code that raises it sets it.
SAMPLE: dict[str, object] = {
    "action": "refund.review",
    "amount_fen": 10_001,
    "refundable_fen": 10_000,
    "limit_fen": 500_000,
    "current": "approved",
    "target": "succeeded",
    "status": "upheld",
    "role": "cashier",
    "own": "supervisor",
    "channel": "wechat",
    "method": "refund",
    "field": "amount_fen",
    "fields": ECHO,
    "missing": "receipt,photo",
    "kind": "photo",
    "source": "wechat",
    "resolution": "recovered",
    "rule": "own_sale",
    "field_zh": "金额",
    "imported_at": AT,
    "withdrawn_at": AT,
    "last": AT,
    "completed_at": AT,
    "file_id": "rcf_3fa9c1d2e4b5a6978899",
    "refund_id": "rfd_3fa9c1d2e4b5a6978899",
    "wrong_charge_id": "wcc_3fa9c1d2e4b5a6978899",
    "id": "wcc_3fa9c1d2e4b5a6978899",
    "filename": "wechat-2026-11-20.csv",
    "summary": "总交易单数…",
    "total": "总交易单数",
    "found": "1900000109",
    "expected": "1900000110",
    "date": "2026-11-20",
    "date_from": "2026-11-01",
    "date_to": "2026-11-19",
    "amount": "¥100.01",
    "refundable": "¥100.00",
    "where": "text",
    "head": "0017",
    "detail": "amount_fen: missing",
    "errors": [{"loc": ["body", "amount_fen"], "type": "missing", "msg": "Field required"}],
}
# Codes whose value under a name is what the person typed (not one of ours): shown back as typed.
ECHOED: dict[str, set[str]] = {
    "money.unsupported_currency": {"currency"},
    "merchant.code_taken": {"merchant_code"},
    "terminal.no_taken": {"terminal_no"},
    "user.invalid_role": {"role"},
    "user.username_taken": {"username"},
    "refund.invalid_reason": {"reason"},
    "refund.invalid_resolution": {"target"},
    "refund.invalid_route": {"method"},
    "callback.unknown_channel": {"channel"},
    "evidence.invalid_kind": {"kind"},
    "notify.unknown_event": {"event"},
    "notify.unknown_language": {"language"},
    "notify.unknown_gateway_kind": {"kind"},
    "notify.invalid_scope": {"scope"},
    "notify.template_bad_argument": {"filter", "argument", "value"},
    "notify.payload_line": {"line"},
    "followup.invalid_status": {"status"},
    "followup.invalid_channel": {"channel"},
    "contact.invalid_kind": {"kind"},
    "contact.invalid_direction": {"direction"},
    "dispute.invalid_party": {"party"},
    "dispute.invalid_outcome": {"outcome"},
    "dispute.invalid_status": {"status"},
    "recon.invalid_source": {"source"},
    "recon.invalid_class": {"value"},
    "recon.invalid_field": {"value"},
    "risk.unknown_rule": {"rule"},
    "risk.invalid_filter": {"value"},
    "risk.invalid_decision": {"status"},
    "report.bad_key": {"key"},
    "fees.invalid_status": {"status"},
    "notify.template_invalid": {"detail"},  # the template engine naming what the admin wrote
    "notify.invalid_gateway": {"detail"},  # the admin's own payload field names
}
OVERRIDES: dict[str, dict[str, object]] = {
    "risk.invalid_transition": {"current": "confirmed", "target": "new"},
    "dispute.closed": {"status": "rejected"},
    "risk.invalid_setting": {"field": "min_gap_minutes"},
    "bank_application.already_submitted": {"status": "submitted"},
    "bank_application.closed": {"status": "accepted"},
    "bank_application.not_submitted": {"status": "prepared"},
    "bank_application.case_state": {"status": "cancelled"},
    "deposit.payout_not_awaiting": {"status": "paid"},
    "deposit.proposal_closed": {"status": "accepted"},
    "device_return.closed": {"status": "refunded"},
    "device_return.no_refund": {"status": "opened"},
    "fees.case_not_approved": {"status": "open"},
    "fees.case_not_open": {"status": "paid"},
    "device_return.document_type": {"kind": "device_photo", "allowed": ["image/jpeg", "application/pdf"]},
}


def _params(code: str, template: str) -> dict[str, object]:
    names = set(re.findall(r"\{(\w+)\}", template))
    params: dict[str, object] = {n: SAMPLE.get(n, 7) for n in names}
    params.update({n: ECHO for n in ECHOED.get(code, set()) if n in names})
    params.update({k: v for k, v in OVERRIDES.get(code, {}).items() if k in names})
    if code == "request.invalid":
        params["errors"] = SAMPLE["errors"]
    return params


@pytest.mark.parametrize("code", sorted(MESSAGES))
def test_every_message_reads_plainly_in_chinese(code: str) -> None:
    zh, _en = MESSAGES[code]
    said = message(code, "zh", _params(code, zh))
    assert "{" not in said, said
    assert problems_in_chinese(said) == [], said


def test_values_are_worded_for_the_reader() -> None:
    params = {"amount_fen": 10_001, "refundable_fen": 10_000}
    assert message("refund.exceeds_refundable", "zh", params) == "退款金额 ¥100.01 超过可退金额 ¥100.00"
    assert message("refund.exceeds_refundable", "en", params) == "Refund of ¥100.01 exceeds the refundable ¥100.00"
    forbidden = {"role": "cashier", "action": "refund.review"}
    assert message("auth.forbidden", "zh", forbidden) == "当前角色（收银员）无权执行此操作：审批退款"
    assert message("auth.forbidden", "en", forbidden) == "Your role (Cashier) may not do this: review refunds"
    moved = {"current": "succeeded", "target": "cancelled"}
    assert message("state.invalid_transition", "zh", moved) == "退款单当前状态为 退款成功，不能变为 已撤回"
    missing = {"detail": "x", "errors": [{"loc": ["body", "amount_fen"], "type": "missing"}]}
    assert message("request.invalid", "zh", missing) == "请求内容不合法：金额必填"
    assert message("request.invalid", "en", missing) == "Invalid request: amount is required"
    typed = {"role": "superuser"}
    assert message("user.invalid_role", "zh", typed) == "角色无效：superuser"  # what was typed, shown as typed


def test_every_permission_and_raised_field_has_a_label() -> None:
    """New actions and new ``field=`` refusals join the tables the messages are worded from."""
    assert sorted(set(PERMISSIONS) - set(LABELS["action"])) == []
    assert sorted({p.name for r in RULES for p in r.params} - set(LABELS["risk_setting"])) == []
    raised: set[str] = set()
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call):
                for kw in node.keywords:
                    if kw.arg == "field" and isinstance(kw.value, ast.Constant) and isinstance(kw.value.value, str):
                        raised.add(kw.value.value)
    assert sorted(raised - set(LABELS["field"])) == []
