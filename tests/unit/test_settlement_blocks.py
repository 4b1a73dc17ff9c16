"""The WeChat Pay bill read as columns (``settlement/blocks.py``, ``wechat_columns.py``) gives what the one-line-at-
a-time reading gives: the same lines with every field, the same bad lines with their reasons, the same totals —
on awkward lines of every kind, across block boundaries, with LF, CRLF and lone-CR line ends."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from posrefund.adapters.settlement import open_settlement_file, parse_wechat_bill
from posrefund.adapters.settlement.model import Tally
from posrefund.adapters.settlement.reading import screened
from posrefund.adapters.settlement.wechat_columns import read_wechat_blocks
from posrefund.domain.errors import Invalid
from tests.support.settlement_blocks import same_both_ways

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "settlement"
HEADER = (FIXTURES / "wechat_bill.csv").read_text(encoding="utf-8").splitlines()[0]


def _line(**over: str) -> str:
    values = {
        "交易时间": "2026-11-20 09:12:45",
        "公众账号ID": "wx8888888888888888",
        "商户号": "1900000109",
        "特约商户号": "1900000201",
        "设备号": "POS-01",
        "微信订单号": "4200001234202611201234567890",
        "商户订单号": "SO202611200001",
        "用户标识": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o",
        "交易类型": "MICROPAY",
        "交易状态": "SUCCESS",
        "付款银行": "CMB_DEBIT",
        "货币种类": "CNY",
        "应结订单金额": "88.00",
        "代金券金额": "0.00",
        "微信退款单号": "0",
        "商户退款单号": "0",
        "退款金额": "0.00",
        "充值券退款金额": "0.00",
        "退款类型": "",
        "退款状态": "",
        "商品名称": "午餐套餐",
        "商户数据包": "",
        "手续费": "0.53",
        "费率": "0.60%",
        "订单金额": "88.00",
        "申请退款金额": "0.00",
        "费率备注": "",
    } | over
    return ",".join(f"`{values[name]}" for name in HEADER.split(","))


REFUND = {
    "交易状态": "REFUND",
    "微信退款单号": "50300012342026112000000001",
    "商户退款单号": "RF202611200001",
    "退款金额": "30.00",
    "退款状态": "SUCCESS",
    "申请退款金额": "30.00",
    "手续费": "-0.18",
}
AWKWARD = [
    _line(),
    _line(**REFUND),
    _line(**(REFUND | {"退款金额": "0.00", "退款状态": "PROCESSING"})),
    _line(**(REFUND | {"微信退款单号": "", "商户退款单号": ""})),  # a refund naming no refund: keyed by its text
    _line(交易状态="REVOKED", 付款银行="OTHERS", 特约商户号="0"),
    _line(微信订单号="", 商户订单号=""),
    _line(应结订单金额="¥88.00", 订单金额="88"),
    _line(应结订单金额="1.5", 订单金额="1.500"),
    _line(应结订单金额="0.00", 订单金额="0.00"),
    _line(应结订单金额="abc"),
    _line(充值券退款金额="x"),
    _line(手续费="-"),
    _line(交易时间="2026-11-20 9:12:45"),
    _line(交易时间="2026-02-30 09:12:45"),
    _line(交易时间="2026-11-20 24:00:00"),
    _line(商户订单号="SO4111111111111111"),  # a PAN in the order no.
    _line(商户订单号="6222021234567890123"),
    _line(商户订单号="SO2026112000000000001"),  # a date and a counter: no card data
    _line(设备号="cvv 123"),
    _line(设备号="CV-1", 商户订单号="SO41111111111111111111"),  # a label without a value; 20 digits: no PAN
    _line(设备号="T4111111111111111", 商户订单号="SO-4111-1111-1111-1111"),
    _line(用户标识="4111111111111111=2512101"),
    _line(微信订单号=";4111111111111111=25121010000000000000?"),
    _line(商户订单号="SO 1 2 3 4 5 6 7 8 9 0 1 2 3"),
    _line(商户订单号="ＳＯ２０２６"),
    _line(商户订单号="SO\u3000200001"),
    _line(商户订单号="SO\x1c200001"),
    _line(设备号=" POS-01\t"),
    _line(商品名称='"午餐,套餐"'),
    _line(商户订单号="SO\x00NUL"),
    _line(货币种类=""),
    _line(付款银行="ICBC_CREDIT", 用户标识="abcd"),
    _line(付款银行="零钱通", 用户标识="abcde"),
    _line(应结订单金额="-88.00", 订单金额="-88.00"),
    "",
    "   ",
    _line()[:60],
    _line() + ",`extra",
    _line(商户订单号="SO202611200001", 应结订单金额="12.34", 订单金额="12.34"),  # the same keys again
]


def _bill(lines: list[str], *, summary: bool = True, end: str = "\n") -> bytes:
    body = [HEADER, *lines]
    if summary:
        body += ["总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额"]
        body += ["`3,`1.00,`0.00,`0.00,`0.00,`1.00,`0.00"]
    return end.join(body).encode("utf-8") + end.encode("utf-8")


def _compare(data: bytes, block_bytes: int) -> tuple[int, int]:
    expected_tally, tally = Tally(""), Tally("")
    expected = list(screened(parse_wechat_bill(io.BytesIO(data), "utf-8", expected_tally)))
    return same_both_ways(
        expected, expected_tally, read_wechat_blocks(io.BytesIO(data), "utf-8", tally, block_bytes), tally
    )


@pytest.mark.parametrize("end", ["\n", "\r\n", "\r"])
@pytest.mark.parametrize("block_bytes", [1, 700, 1 << 20])
def test_blocks_read_what_the_line_reading_reads(end: str, block_bytes: int) -> None:
    cleared, one_at_a_time = _compare(_bill(AWKWARD, end=end), block_bytes)
    # The plain lines were read as columns, the awkward ones one at a time.
    assert cleared >= 8 and one_at_a_time >= 10


def test_blocks_of_a_bom_file_without_summary_and_a_line_not_utf8() -> None:
    data = b"\xef\xbb\xbf" + _bill([_line(), _line(**REFUND)], summary=False)
    _compare(data, 1 << 20)
    _compare(data.replace(b"POS-01", b"POS-\xff1", 1), 1 << 20)
    _compare(data.replace(b"POS-01", b"POS-\xff1", 1), 300)


def test_the_fixture_read_as_blocks() -> None:
    _compare((FIXTURES / "wechat_bill.csv").read_bytes(), 1 << 20)


def test_a_file_read_as_blocks_is_checked_whole(tmp_path: Path) -> None:
    """The summary check counts the lines of the blocks: a bill whose summary says otherwise is refused."""
    path = tmp_path / "wechat.csv"
    path.write_bytes(_bill([_line(), _line(**REFUND), _line(商户订单号="SO9")]))
    with pytest.raises(Invalid) as err:
        list(open_settlement_file("wechat", path).lines())
    assert err.value.code == "recon.file_totals_mismatch"
    path.write_bytes(_bill([_line(), _line(**REFUND)], summary=False))
    with pytest.raises(Invalid) as err:
        list(open_settlement_file("wechat", path).lines())
    assert err.value.code == "recon.file_truncated"
