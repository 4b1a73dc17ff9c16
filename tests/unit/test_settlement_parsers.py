"""Settlement-file parsers: exact values from realistic fixtures, bad lines reported, PANs masked, streaming."""

from __future__ import annotations

import hashlib
import io
import tracemalloc
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

import pytest

from posrefund.adapters.settlement import (
    DEFAULT_CARD_MAPPING,
    BadLine,
    ParsedLine,
    SettlementFormatError,
    SettlementLine,
    card_mapping_from_dict,
    file_fingerprint,
    load_card_mapping,
    open_settlement_file,
    parse_alipay_bill,
    parse_card_settlement,
    parse_wechat_bill,
    text_encoding,
    yuan_to_fen,
)
from posrefund.adapters.settlement.blocks import LineBlock
from posrefund.domain.errors import Invalid
from posrefund.domain.pii import find_card_number

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "settlement"
FULL_PAN = "6222021234567890128"


def split(results: list[SettlementLine | BadLine]) -> tuple[dict[int, SettlementLine], dict[int, BadLine]]:
    good = {r.line_no: r for r in results if isinstance(r, SettlementLine)}
    bad = {r.line_no: r for r in results if isinstance(r, BadLine)}
    return good, bad


@pytest.mark.parametrize(
    ("text", "fen"),
    [
        ("12.34", 1234),
        ("-0.50", -50),
        ("¥1,234.56", 123456),
        ("-¥1,234.56", -123456),
        ("￥7", 700),
        ("0.5", 50),
        ("+3.10", 310),
        (" 88.00 ", 8800),
        ("12.300", 1230),
    ],
)
def test_yuan_to_fen(text: str, fen: int) -> None:
    assert yuan_to_fen(text) == fen


@pytest.mark.parametrize("text", ["", "abc", "1.2.3", "12.345", "1,23.00", "--1", "1e3", "NaN", "12.3x"])
def test_yuan_to_fen_refuses(text: str) -> None:
    with pytest.raises(ValueError, match="bad amount"):
        yuan_to_fen(text)


# --- card -------------------------------------------------------------------------------------------------


def test_card_default_mapping_fixture() -> None:
    good, _ = split(list(parse_card_settlement(FIXTURES / "card_acquirer.csv")))
    assert sorted(good) == [2, 3, 4, 5, 9]
    first = good[2]
    assert first.source == "card"
    assert first.kind == "sale"
    assert first.occurred_at == datetime.fromisoformat("2026-11-20T09:30:15+08:00")
    assert first.occurred_at.isoformat() == "2026-11-20T09:30:15+08:00"
    assert (first.amount_fen, first.fee_fen, first.currency) == (12800, 77, "CNY")
    assert (first.merchant_no, first.terminal_no, first.voucher_no, first.rrn) == (
        "898310058120001",
        "10000001",
        "000101",
        "093015123456",
    )
    assert (first.batch_no, first.auth_code, first.payer_masked) == ("000012", "A1B2C3", "622202******0128")
    assert good[3].amount_fen == 123456  # "¥1,234.56", quoted because of the thousands separator
    refund = good[4]
    assert (refund.kind, refund.amount_fen, refund.fee_fen, refund.refund_status) == ("refund", 5000, -30, "SUCCESS")
    assert (good[5].kind, good[5].amount_fen) == ("void", 8880)
    assert good[9].amount_fen == 50
    raw_line = (FIXTURES / "card_acquirer.csv").read_bytes().splitlines()[1]
    assert first.raw_hash == hashlib.sha256(raw_line).hexdigest()


def test_card_bad_lines_reported_and_rest_parsed() -> None:
    _, bad = split(list(parse_card_settlement(FIXTURES / "card_acquirer.csv")))
    assert sorted(bad) == [6, 7, 8]
    assert "bad amount" in bad[6].reason
    assert bad[7].reason == "expected 12 columns, found 13"
    assert "冲正" in bad[8].reason
    assert bad[6].text_excerpt.startswith("20261120,120000,")


def test_card_full_pan_is_masked() -> None:
    assert FULL_PAN in (FIXTURES / "card_acquirer.csv").read_text(encoding="utf-8")
    results = list(parse_card_settlement(FIXTURES / "card_acquirer.csv"))
    line = next(r for r in results if isinstance(r, SettlementLine) and r.line_no == 3)
    assert line.payer_masked == "622202*********0128"
    for r in results:
        assert not find_card_number(repr(r))


def test_bad_line_excerpt_never_holds_a_pan() -> None:
    data = "交易日期,交易时间,商户号,终端号,卡号,交易类型,交易金额,手续费,凭证号,参考号,批次号,授权码\n"
    data += f"20261120,093015,898310058120001,10000001,{FULL_PAN},消费,oops,0.77,000101,1,2,3\n"
    (result,) = parse_card_settlement(io.BytesIO(data.encode()))
    assert isinstance(result, BadLine)
    assert FULL_PAN not in result.text_excerpt
    assert "[PAN]" in result.text_excerpt


def test_card_custom_toml_mapping() -> None:
    mapping = load_card_mapping(FIXTURES / "card_custom.toml")
    assert mapping.delimiter == "|"
    good, bad = split(list(parse_card_settlement(FIXTURES / "card_custom.txt", mapping)))
    assert bad == {}
    assert sorted(good) == [3, 4, 5]
    sale, refund, void = good[3], good[4], good[5]
    assert (sale.kind, sale.amount_fen, sale.fee_fen, sale.merchant_no, sale.terminal_no) == (
        "sale",
        6660,
        40,
        "M0001",
        "T01",
    )
    assert sale.occurred_at.isoformat() == "2026-11-20T08:01:02+08:00"
    assert sale.payer_masked == "622202*********0128"
    assert (refund.kind, refund.amount_fen, refund.fee_fen, refund.rrn) == ("refund", 1000, -6, "900304000202")
    assert (void.kind, void.amount_fen, void.voucher_no) == ("void", 505, "000203")


def test_card_mapping_refuses_unknown_keys() -> None:
    with pytest.raises(SettlementFormatError, match="unknown keys: delimeter"):
        card_mapping_from_dict({"delimeter": "|", "mapping": dict(DEFAULT_CARD_MAPPING.mapping)})
    with pytest.raises(SettlementFormatError, match="unknown mapping fields: cardholder"):
        card_mapping_from_dict({"mapping": {**DEFAULT_CARD_MAPPING.mapping, "cardholder": "持卡人"}})
    with pytest.raises(SettlementFormatError, match="unknown kinds: chargeback"):
        card_mapping_from_dict({"mapping": dict(DEFAULT_CARD_MAPPING.mapping), "kinds": {"chargeback": ["拒付"]}})
    with pytest.raises(SettlementFormatError, match="mapping lacks: amount"):
        card_mapping_from_dict({"mapping": {"datetime": "时间", "kind": "类型"}})


def test_card_missing_header_column_is_a_file_error() -> None:
    data = "交易日期,交易时间,商户号\n20261120,093015,1\n".encode()
    with pytest.raises(SettlementFormatError, match="columns not in header"):
        list(parse_card_settlement(io.BytesIO(data)))


def test_card_amount_in_fen_and_gbk_encoding() -> None:
    mapping = card_mapping_from_dict(
        {
            "encoding": "gbk",
            "amount_unit": "fen",
            "date_format": "%Y-%m-%d",
            "time_format": "%H:%M:%S",
            "mapping": {"date": "日期", "time": "时间", "kind": "类型", "amount": "金额"},
            "kinds": {"sale": "消费"},
        }
    )
    data = "日期,时间,类型,金额\n2026-11-20,23:59:59,消费,000000001234\n".encode("gbk")
    (line,) = parse_card_settlement(io.BytesIO(data), mapping)
    assert isinstance(line, SettlementLine)
    assert (line.amount_fen, line.occurred_at.isoformat()) == (1234, "2026-11-20T23:59:59+08:00")


# --- WeChat Pay ---------------------------------------------------------------------------------------------


def test_wechat_bill_fixture() -> None:
    good, _ = split(list(parse_wechat_bill(FIXTURES / "wechat_bill.csv")))
    assert sorted(good) == [2, 3, 4, 5, 8]  # summary header and summary line (9, 10) are not transactions
    sale = good[2]
    assert (sale.source, sale.kind, sale.amount_fen, sale.fee_fen, sale.currency) == ("wechat", "sale", 8800, 53, "CNY")
    assert sale.occurred_at.isoformat() == "2026-11-20T09:12:45+08:00"
    assert sale.channel_trade_no == "4200001234202611201234567890"  # backtick stripped
    assert (sale.merchant_order_no, sale.merchant_no, sale.terminal_no) == ("SO202611200001", "1900000201", "POS-01")
    assert (sale.channel_refund_no, sale.merchant_refund_no, sale.refund_status) == ("", "", "")
    assert good[3].amount_fen == 123456
    refund = good[4]
    assert (refund.kind, refund.amount_fen, refund.fee_fen) == ("refund", 3000, -18)
    assert refund.channel_refund_no == "50300012342026112000000001"
    assert (refund.merchant_refund_no, refund.refund_status) == ("RF202611200001", "SUCCESS")
    assert refund.occurred_at.isoformat() == "2026-11-20T14:05:09+08:00"
    pending = good[5]  # 退款金额 0.00 while processing: the applied amount (申请退款金额) is used
    assert (pending.kind, pending.amount_fen, pending.refund_status) == ("refund", 10000, "PROCESSING")
    assert pending.merchant_refund_no == "RF202611200002"
    assert good[8].amount_fen == 50


def test_wechat_bad_lines() -> None:
    _, bad = split(list(parse_wechat_bill(FIXTURES / "wechat_bill.csv")))
    assert sorted(bad) == [6, 7]
    assert bad[6].reason == "bad amount 'abc'"
    assert bad[7].reason == "expected 27 columns, found 6"


def test_wechat_bom_and_crlf_give_same_lines() -> None:
    plain = (FIXTURES / "wechat_bill.csv").read_bytes()
    variant = b"\xef\xbb\xbf" + plain.replace(b"\n", b"\r\n")
    assert list(parse_wechat_bill(io.BytesIO(variant))) == list(parse_wechat_bill(io.BytesIO(plain)))


def test_wechat_wrong_header() -> None:
    with pytest.raises(SettlementFormatError, match="not a WeChat Pay bill"):
        list(parse_wechat_bill(io.BytesIO(b"a,b,c\n1,2,3\n")))


# --- Alipay -------------------------------------------------------------------------------------------------


def test_alipay_fixture_is_real_gbk() -> None:
    data = (FIXTURES / "alipay_bill.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    assert data.decode("gbk").startswith("#支付宝业务明细查询")


def test_alipay_bill_fixture() -> None:
    good, _ = split(list(parse_alipay_bill(FIXTURES / "alipay_bill.csv")))
    assert sorted(good) == [6, 7, 8, 11]
    sale = good[6]
    assert (sale.source, sale.kind, sale.amount_fen, sale.fee_fen) == ("alipay", "sale", 3600, 22)
    assert sale.occurred_at.isoformat() == "2026-11-20T11:58:05+08:00"  # 完成时间, not 创建时间
    assert (sale.channel_trade_no, sale.merchant_order_no) == ("2026112022001401231234567890", "SO202611200101")
    assert (sale.merchant_no, sale.terminal_no, sale.payer_masked) == ("20881234567890120156", "POS-A1", "138****5678")
    assert good[7].amount_fen == 123456
    refund = good[8]  # -100.50 in the bill
    assert (refund.kind, refund.amount_fen, refund.fee_fen) == ("refund", 10050, -60)
    assert (refund.merchant_refund_no, refund.refund_status) == ("RF202611200102", "SUCCESS")
    assert refund.channel_trade_no == "2026112022001401231234567891"
    assert refund.occurred_at.isoformat() == "2026-11-20T18:02:41+08:00"
    assert (good[11].kind, good[11].amount_fen, good[11].merchant_refund_no) == ("refund", 1800, "2026112000000105-R1")


def test_alipay_bad_lines() -> None:
    _, bad = split(list(parse_alipay_bill(FIXTURES / "alipay_bill.csv")))
    assert sorted(bad) == [9, 10]
    assert bad[9].reason == "bad amount '1.2.3'"
    assert bad[10].reason == "expected 25 columns, found 5"
    assert "奶茶" in bad[10].text_excerpt  # decoded from GBK for the report


def test_alipay_sign_must_fit_business_type() -> None:
    lines = (FIXTURES / "alipay_bill.csv").read_bytes().decode("gbk").splitlines()
    header = lines[4]
    row = lines[5].replace(",36.00\t", ",-36.00\t", 1)
    (result,) = parse_alipay_bill(io.BytesIO(f"{header}\n{row}\n".encode("gbk")))
    assert isinstance(result, BadLine)
    assert "does not fit" in result.reason


# --- fingerprint and streaming ------------------------------------------------------------------------------


def test_file_fingerprint_is_of_the_text(tmp_path: Path) -> None:
    src = FIXTURES / "alipay_bill.csv"
    data = src.read_bytes()
    copy = tmp_path / "again.csv"
    copy.write_bytes(data)
    assert file_fingerprint(src, "gbk") == file_fingerprint(copy, "gbk")
    with open(copy, "rb") as fh:
        assert file_fingerprint(fh, "gbk") == file_fingerprint(src, "gbk")
    lf = data.replace(b"\r\n", b"\n")
    for variant in (lf, lf.replace(b"\n", b"\r\n"), lf.replace(b"\n", b"\r"), lf + b"\n\n", lf.rstrip(b"\n")):
        copy.write_bytes(variant)
        assert file_fingerprint(copy, "gbk") == file_fingerprint(src, "gbk")
    copy.write_bytes(data.decode("gbk").encode("utf-8"))
    assert text_encoding(copy, "gbk") == "utf-8" and text_encoding(src, "gbk") == "gbk"
    assert file_fingerprint(copy, "utf-8") == file_fingerprint(src, "gbk")
    copy.write_bytes(data.replace(b"1234.56", b"1234.57"))
    assert file_fingerprint(copy, "gbk") != file_fingerprint(src, "gbk")


@pytest.mark.slow
def test_streaming_200k_card_lines_in_constant_memory(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    count = 200_000
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("交易日期,交易时间,商户号,终端号,卡号,交易类型,交易金额,手续费,凭证号,参考号,批次号,授权码\n")
        for i in range(count):
            amount = "oops" if i == 123_456 else f"{i % 1000}.{i % 100:02d}"
            fh.write(f"20261120,{i % 24:02d}{i % 60:02d}00,898310058120001,1000{i % 7},622202******0128,消费,")
            fh.write(f"{amount},0.01,{i:06d},{i:012d},000012,A{i:05d}\n")
    assert path.stat().st_size > 20_000_000
    good = bad = total_fen = 0
    tracemalloc.start()
    try:
        for result in parse_card_settlement(path):
            if isinstance(result, SettlementLine):
                good += 1
                total_fen += result.amount_fen
            else:
                bad += 1
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    zero_amounts = sum(1 for i in range(count) if i % 1000 == 0 and i % 100 == 0 and i != 123_456)
    assert bad == 1 + zero_amounts  # "oops" and the 0.00 amounts
    assert good == count - bad
    assert total_fen == sum((i % 1000) * 100 + i % 100 for i in range(count) if i != 123_456)
    assert peak < 2_000_000, f"peak {peak} bytes: parser is not streaming"


# A bare carriage return ends a line (old copies end every line so), so a line holding one is two lines cut
# short (bad lines, for which the import refuses the file), never a crash; in the header it makes the file
# unreadable (SettlementFormatError, answered 422 by the API).
def test_a_bare_carriage_return_ends_a_line_and_in_the_header_a_format_error() -> None:
    good = (
        "20261120,093015,898310058120001,10000001,622202******0128,消费,128.00,0.77,000101,093015123456,000012,A1B2C3"
    )
    header = "交易日期,交易时间,商户号,终端号,卡号,交易类型,交易金额,手续费,凭证号,参考号,批次号,授权码"
    body = f"{header}\n{good}\n20261120,09\r3015,x\n{good}\n".encode()
    out = list(parse_card_settlement(io.BytesIO(body)))
    assert [type(x).__name__ for x in out] == ["SettlementLine", "BadLine", "BadLine", "SettlementLine"]
    assert isinstance(out[1], BadLine) and out[1].line_no == 3 and out[1].cut_short
    assert out[3].line_no == 5
    with pytest.raises(SettlementFormatError):
        list(parse_card_settlement(io.BytesIO(b"\xc3\x88r!\r?\n" + good.encode())))


def _line_numbers(items: Iterable[ParsedLine | LineBlock]) -> list[int]:
    """The line numbers of what an import reads, lines one at a time or in blocks read as columns."""
    numbers: list[int] = []
    for item in items:
        if isinstance(item, LineBlock):
            numbers += item.frame["line_no"].to_list() + [x.line_no for x in (*item.lines, *item.bad)]
        else:
            numbers.append(item.line_no)
    return sorted(numbers)


def test_a_settlement_file_is_fingerprinted_once_and_read_afresh_for_each_import(tmp_path: Path) -> None:
    header = "交易日期,交易时间,商户号,终端号,卡号,交易类型,交易金额,手续费,凭证号,参考号,批次号,授权码"
    line = "20261120,093015,898310058120001,10000001,622202******0128,消费,128.00,0.77,000101,093015123456,000012,A1"
    path = tmp_path / "acquirer.csv"
    path.write_text(f"{header}\n{line}\n合计,,,,,,128.00,0.77,,,,\n", encoding="utf-8")  # whole: with its totals
    settlement = open_settlement_file("card", path)
    first, again = settlement.import_arguments(), settlement.import_arguments()
    assert (first["source"], first["filename"], first["size"]) == ("card", "acquirer.csv", path.stat().st_size)
    assert first["fingerprint"] == file_fingerprint(path)
    assert _line_numbers(first["lines"]) == _line_numbers(again["lines"]) == [2]
    assert open_settlement_file("card", path, filename="upload.csv").filename == "upload.csv"


def test_an_unreadable_settlement_file_or_an_unknown_channel_is_said_in_the_domain_s_words(tmp_path: Path) -> None:
    path = tmp_path / "bill.csv"
    path.write_text("not,a,bill\n", encoding="utf-8")
    with pytest.raises(Invalid) as bad:
        list(open_settlement_file("wechat", path).lines())
    assert bad.value.code == "recon.bad_file" and "missing" in bad.value.params["detail"]
    with pytest.raises(Invalid) as unknown:
        open_settlement_file("paypal", path)
    assert unknown.value.code == "recon.invalid_source"
