"""The acquirer's card file read as columns (``settlement/blocks.py``, ``card_columns.py``) gives what the
one-line-at-a-time reading gives: the same lines with every field, the same bad lines with their reasons (card
data refused the same way), the same footer and line totals — on awkward lines of every kind, across block
boundaries, with LF, CRLF and lone-CR line ends, in the default layout and in stored ones."""

from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path

import pytest

from posrefund.adapters.settlement import open_settlement_file
from posrefund.adapters.settlement.blocks import LineBlock
from posrefund.adapters.settlement.card import DEFAULT_CARD_MAPPING, CardMapping, card_mapping_of, parse_card_settlement
from posrefund.adapters.settlement.card_columns import read_card_blocks
from posrefund.adapters.settlement.model import Tally
from posrefund.adapters.settlement.reading import screened
from posrefund.domain.errors import Invalid
from posrefund.domain.settlement_mapping import BUILT_IN, spec_from_dict
from tests.support.settlement_blocks import same_both_ways

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "settlement"

STANDARD_HEADER = "交易日期,交易时间,商户号,终端号,卡号,交易类型,交易金额,手续费,凭证号,参考号,批次号,授权码,卡类型"
STANDARD = {
    "交易日期": "20261120",
    "交易时间": "093015",
    "商户号": "898310058120001",
    "终端号": "10000001",
    "卡号": "622202******0128",
    "交易类型": "消费",
    "交易金额": "128.00",
    "手续费": "0.77",
    "凭证号": "000101",
    "参考号": "093015123456",
    "批次号": "000012",
    "授权码": "A1B2C3",
    "卡类型": "借记卡",
}
BANK_HEADER = (
    "交易日期;交易时刻;特约商户号;POS终端号;卡号(脱敏);交易本金(分);商户手续费(分);POS流水号;检索参考号;授权号"
)
BANK = {
    "交易日期": "2026/11/20",
    "交易时刻": "09:30:15",
    "特约商户号": "898310058120001",
    "POS终端号": "10000001",
    "卡号(脱敏)": "622202******0128",
    "交易本金(分)": "12800",
    "商户手续费(分)": "77",
    "POS流水号": "000101",
    "检索参考号": "093015123456",
    "授权号": "A1B2C3",
}
# A layout as a merchant stores it: one time column, a currency column, its own type words, 总计 as the footer.
STORED = spec_from_dict(
    {
        "columns": {
            "datetime": "时间",
            "merchant_no": "商户",
            "terminal_no": "终端",
            "card_no": "卡",
            "kind": "类型",
            "amount": "金额",
            "fee": "费",
            "currency": "币种",
            "rrn": "参考号",
            "merchant_order_no": "订单号",
            "merchant_refund_no": "退款单号",
            "channel_trade_no": "渠道单号",
            "card_type": "卡种",
        },
        "kinds": {"sale": ["消费", "预授权完成"], "refund": ["退货"], "void": ["消费撤销", "预授权完成撤销"]},
        "datetime_format": "%Y-%m-%d %H:%M:%S",
        "delimiter": "|",
        "skip_prefixes": ["总计", "#", "备注"],
    }
)
STORED_HEADER = "时间|商户|终端|卡|类型|金额|费|币种|参考号|订单号|退款单号|渠道单号|卡种"
STORED_LINE = {
    "时间": "2026-11-20 09:30:15",
    "商户": "898310058120001",
    "终端": "T01",
    "卡": "6222",
    "类型": "消费",
    "金额": "88.00",
    "费": "0.53",
    "币种": "",
    "参考号": "093015123456",
    "订单号": "SO202611200001",
    "退款单号": "",
    "渠道单号": "4200001234202611201234567890",
    "卡种": "贷记卡",
}


def _joined(header: str, defaults: dict[str, str], sep: str, **over: str) -> str:
    values = defaults | over
    return sep.join(values[name] for name in header.split(sep))


def _std(**over: str) -> str:
    return _joined(STANDARD_HEADER, STANDARD, ",", **over)


def _bank(**over: str) -> str:
    return _joined(BANK_HEADER, BANK, ";", **over)


def _stored(**over: str) -> str:
    return _joined(STORED_HEADER, STORED_LINE, "|", **over)


AWKWARD_STANDARD = [
    _std(),
    _std(交易类型="退货", 交易金额="-50.00", 手续费="-0.30", 参考号="110344111222", 卡类型="贷记卡"),
    _std(交易类型="消费撤销", 交易金额="88.80", 手续费="0.00", 卡类型=""),
    _std(交易类型="预授权完成", 交易金额="7", 卡类型="外卡"),
    _std(交易类型="退款", 交易金额="-0.05", 手续费=""),
    _std(交易类型="冲正"),  # a type the layout does not know
    _std(交易类型=""),
    _std(交易金额="¥1,234.56"),
    _std(交易金额="+12.00"),
    _std(交易金额="12.345"),
    _std(交易金额="0.00"),
    _std(交易金额=""),
    _std(手续费="-"),
    _std(手续费="0.5"),
    _std(交易日期="20260230"),
    _std(交易时间="240000"),
    _std(交易时间="93015"),
    _std(交易日期="２０２６１１２０"),
    _std(交易日期=""),
    _std(凭证号="", 参考号=""),  # keyed by its text
    _std(凭证号="", 参考号="1"),
    _std(卡号="6222021234567890128"),  # a full PAN in the card column: masked
    _std(卡号="6222 0212 3456 7890 128"),
    _std(卡号="622202*********0128"),
    _std(卡号="４１１１１１１１１１１１１１１１"),  # a PAN in full-width digits
    _std(卡号="1234567890123"),  # 13 digits, no scheme: masked all the same
    _std(卡号=""),
    _std(授权码="4111111111111111"),  # a PAN in a kept field: the line is refused
    _std(终端号="4111 1111 1111 1111"),
    _std(终端号="4111-1111-1111-1111"),
    _std(批次号="４１１１１１１１１１１１１１１１"),
    _std(凭证号="cvv 123"),
    _std(凭证号="CVV2:123"),
    _std(授权码="安全码123"),
    _std(商户号=";4111111111111111=25121010000000000000?"),
    _std(商户号="4111111111111111"),  # a merchant no. is searched for track data only
    _std(参考号="4111111111111111=2512101"),
    _std(参考号="20261120000000000001"),
    _std(终端号=" 10000001\t"),
    _std(终端号="T\u3000001"),
    _std(终端号="T\x1c001"),
    _std(终端号="T\x00001"),
    _std(终端号='"10000001"'),
    _std(终端号='"1000,0001"'),
    _std(卡类型="debit"),
    _std(卡类型="未知"),
    "",
    "   ",
    "\t",
    _std()[:40],
    _std() + ",extra",
    "合计,,,,,,1.00,0.01,,,,,",  # a second footer is passed over
    "# a comment inside the table",
    "  总计,,,,,,1.00,0.01,,,,,",
    _std(凭证号="000101"),  # the same keys again
]
AWKWARD_BANK = [
    _bank(),
    _bank(**{"交易本金(分)": "-5000", "商户手续费(分)": "-30", "检索参考号": "110000123456"}),
    _bank(**{"交易本金(分)": "000012800"}),
    _bank(**{"交易本金(分)": "+12800"}),
    _bank(**{"交易本金(分)": "128.00"}),
    _bank(**{"交易本金(分)": "0"}),
    _bank(**{"交易本金(分)": "-0"}),
    _bank(**{"商户手续费(分)": ""}),
    _bank(交易日期="2026/1/2", 交易时刻="3:4:5"),
    _bank(交易日期="2026/13/01"),
    _bank(交易时刻="09:30:60"),
    _bank(交易时刻="09:30"),
    _bank(**{"卡号(脱敏)": "4111111111111111"}),
    _bank(授权号="4111111111111111"),
    _bank(POS流水号="", 检索参考号=""),
    _bank(POS终端号="T;1"),
    "合计;;;;;100;1;;;",
]
AWKWARD_STORED = [
    _stored(),
    _stored(类型="退货", 金额="30.00", 费="-0.18", 退款单号="RF1", 卡种=""),
    _stored(类型="预授权完成撤销", 币种="HKD"),
    _stored(类型="消费撤销", 金额="-1.00"),
    _stored(时间="2026-11-20 9:30:15"),
    _stored(时间="2026-11-20T09:30:15"),
    _stored(时间="0999-11-20 09:30:15"),
    _stored(订单号="SO4111111111111111"),
    _stored(订单号="SO-4111-1111-1111-1111"),
    _stored(退款单号="6222021234567890123"),
    _stored(渠道单号="4111111111111111"),  # the channel's own number: searched for track data only
    _stored(渠道单号="4111111111111111=2512101"),
    _stored(卡="436742******5678"),
    _stored(卡="436742*****5678X1234567890"),
    _stored(商户="M,1"),
    "备注: a note",
]
LAYOUTS = {
    "standard": (DEFAULT_CARD_MAPPING, STANDARD_HEADER, AWKWARD_STANDARD, "合计,,,,,,1.00,0.01,,,,,"),
    "bank-acquirer": (card_mapping_of(BUILT_IN["bank-acquirer"]), BANK_HEADER, AWKWARD_BANK, "合计;;;;;100;1;;;"),
    "stored": (card_mapping_of(STORED), STORED_HEADER, AWKWARD_STORED, "总计||||||1.00|0.01|||||"),
}


def _file(header: str, lines: list[str], footer: str | None, *, end: str = "\n", title: str | None = None) -> bytes:
    body = [*([title] if title is not None else []), header, *lines, *([footer] if footer is not None else [])]
    return end.join(body).encode("utf-8") + end.encode("utf-8")


def _compare(data: bytes, mapping: CardMapping, block_bytes: int) -> tuple[int, int]:
    expected_tally, tally = Tally(""), Tally("")
    expected = list(screened(parse_card_settlement(io.BytesIO(data), mapping, expected_tally)))
    return same_both_ways(
        expected,
        expected_tally,
        read_card_blocks(io.BytesIO(data), mapping.encoding, mapping, tally, block_bytes),
        tally,
    )


@pytest.mark.parametrize("layout", list(LAYOUTS))
@pytest.mark.parametrize("end", ["\n", "\r\n", "\r"])
@pytest.mark.parametrize("block_bytes", [1, 700, 1 << 20])
def test_blocks_read_what_the_line_reading_reads(layout: str, end: str, block_bytes: int) -> None:
    mapping, header, lines, footer = LAYOUTS[layout]
    cleared, one_at_a_time = _compare(_file(header, lines, footer, end=end), mapping, block_bytes)
    # The plain lines were read as columns, the awkward ones one at a time.
    assert cleared >= 3 and one_at_a_time >= 3


def test_a_footer_before_the_lines_and_none_after() -> None:
    """A footer is taken where it stands; the lines after it are still lines."""
    data = _file(STANDARD_HEADER, ["合计,,,,,,128.00,0.77,,,,,", _std(), _std(参考号="2")], None)
    _compare(data, DEFAULT_CARD_MAPPING, 1 << 20)
    _compare(_file(STANDARD_HEADER, [_std()], None), DEFAULT_CARD_MAPPING, 1 << 20)


def test_title_rows_above_the_header_a_bom_and_a_line_not_utf8() -> None:
    mapping = replace(DEFAULT_CARD_MAPPING, header_rows=3)
    data = b"\xef\xbb\xbf" + _file(STANDARD_HEADER, [_std(), _std(参考号="2")], "合计", title="标题\n,,,")
    _compare(data, mapping, 1 << 20)
    _compare(data.replace(b"10000001", b"1000\xff001", 1), mapping, 1 << 20)
    _compare(data.replace(b"A1B2C3", b"A1\xffB2C3", 1), mapping, 300)
    _compare(data.replace(b"A1B2C3", b"A1\xffB2C3", 1), replace(mapping, encoding="UTF-8"), 1 << 20)


def test_a_header_without_a_mapped_column_stops_both_readings() -> None:
    data = _file("交易日期,交易时间", [_std()], None)
    with pytest.raises(ValueError, match="columns not in header"):
        list(parse_card_settlement(io.BytesIO(data)))
    with pytest.raises(ValueError, match="columns not in header"):
        list(read_card_blocks(io.BytesIO(data), "utf-8", DEFAULT_CARD_MAPPING, Tally("")))


def test_the_fixture_read_as_blocks() -> None:
    _compare((FIXTURES / "card_acquirer.csv").read_bytes(), DEFAULT_CARD_MAPPING, 1 << 20)


def test_a_file_read_as_blocks_is_checked_whole(tmp_path: Path) -> None:
    """The footer check adds up the lines of the blocks: a file whose 合计 says otherwise is refused."""
    path = tmp_path / "card.csv"
    path.write_bytes(_file(STANDARD_HEADER, [_std(), _std(参考号="2")], "合计,,,,,,256.00,1.54,,,,,"))
    items = list(open_settlement_file("card", path).lines())
    assert [type(item) for item in items] == [LineBlock] and sum(map(len, items)) == 2  # type: ignore[arg-type]
    path.write_bytes(_file(STANDARD_HEADER, [_std(), _std(参考号="2")], "合计,,,,,,256.01,1.54,,,,,"))
    with pytest.raises(Invalid) as err:
        list(open_settlement_file("card", path).lines())
    assert err.value.code == "recon.file_totals_mismatch"
    path.write_bytes(_file(STANDARD_HEADER, [_std(), _std(参考号="2")], None))
    with pytest.raises(Invalid) as err:
        list(open_settlement_file("card", path).lines())
    assert err.value.code == "recon.file_truncated"
