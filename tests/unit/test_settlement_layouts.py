"""The built-in acquirer layouts read files in their style: a 银联商务-style GBK export with a title row and one
time column, a bank acquirer's semicolon file in fen whose refunds carry a minus sign and no type column."""

from __future__ import annotations

from io import BytesIO

import pytest

from posrefund.adapters.settlement import SettlementLine
from posrefund.adapters.settlement.card import card_mapping_of, parse_card_settlement
from posrefund.domain.errors import Invalid
from posrefund.domain.settlement_mapping import BUILT_IN, spec_from_dict

CHINAUMS = "\r\n".join(
    [
        "银联商务 商户交易明细 2026-11-20",
        "交易时间,商户编号,终端编号,交易卡号,交易类别,交易金额(元),手续费(元),终端流水号,系统参考号,批次号,授权码,商户订单号",
        "2026-11-20 09:30:15,898310058120001,10000001,6222021234567890128,扫码消费,128.00,0.49,000101,093015123456,000012,,O1",
        "2026-11-20 10:02:00,898310058120001,10000001,622202******0128,退货,28.00,-0.11,000102,100200123456,000012,,O1",
        "合计,,,,,100.00,0.38,,,,,",
    ]
).encode("gbk")
BANK = "\n".join(
    [
        "交易日期;交易时刻;特约商户号;POS终端号;卡号(脱敏);交易本金(分);商户手续费(分);POS流水号;检索参考号;授权号",
        "2026/11/20;09:30:15;898310058120001;10000001;622202******0128;12800;77;000101;093015123456;A1B2C3",
        "2026/11/20;11:00:00;898310058120001;10000001;622202******0128;-5000;-30;000102;110000123456;",
    ]
).encode("utf-8")


def lines(data: bytes, name: str) -> list[SettlementLine]:
    parsed = list(parse_card_settlement(BytesIO(data), card_mapping_of(BUILT_IN[name])))
    assert all(isinstance(x, SettlementLine) for x in parsed), parsed
    return [x for x in parsed if isinstance(x, SettlementLine)]


def test_a_chinaums_style_export() -> None:
    sale, refund = lines(CHINAUMS, "chinaums")
    assert (sale.kind, sale.amount_fen, sale.fee_fen, sale.payer_masked) == ("sale", 12_800, 49, "622202*********0128")
    assert (refund.kind, refund.amount_fen, refund.merchant_order_no, refund.line_no) == ("refund", 2_800, "O1", 4)
    assert sale.occurred_at.isoformat() == "2026-11-20T09:30:15+08:00"


def test_a_bank_acquirers_export_signs_its_refunds() -> None:
    sale, refund = lines(BANK, "bank-acquirer")
    assert (sale.kind, sale.amount_fen, sale.fee_fen, sale.auth_code) == ("sale", 12_800, 77, "A1B2C3")
    assert (refund.kind, refund.amount_fen, refund.fee_fen) == ("refund", 5_000, -30)


def test_every_built_in_layout_passes_its_own_checks() -> None:
    for spec in BUILT_IN.values():
        assert spec_from_dict(spec.as_dict()) == spec


@pytest.mark.parametrize(
    ("change", "code", "field"),
    [
        (
            {"columns": {"amount": "金额", "datetime": "时间", "holder": "持卡人"}},
            "recon.mapping_unknown_field",
            "holder",
        ),
        ({"date_format": "%Y%m%d%z"}, "recon.mapping_bad_value", "date_format"),
        ({"sign": "kind", "kinds": {}}, "recon.mapping_missing_field", "kind"),
        ({"header_rows": 0}, "recon.mapping_bad_value", "header_rows"),
    ],
)
def test_a_layout_is_checked_field_by_field(change: dict[str, object], code: str, field: str) -> None:
    with pytest.raises(Invalid) as refused:
        spec_from_dict({**BUILT_IN["standard"].as_dict(), **change})
    assert (refused.value.code, refused.value.params["field"]) == (code, field)
