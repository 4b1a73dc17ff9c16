"""Parsers for the settlement files finance receives from the acquirer, WeChat Pay and Alipay.

Each parser is a generator over a path or binary file, so files of millions of lines are read in
constant memory, and yields a ``SettlementLine`` or a ``BadLine`` per line: one bad line never stops the rest.
``open_settlement_file`` picks the parser for a channel and fingerprints the file for the import.
"""

from posrefund.adapters.settlement.alipay import parse_alipay_bill
from posrefund.adapters.settlement.card import (
    DEFAULT_CARD_MAPPING,
    CardMapping,
    card_mapping_from_dict,
    load_card_mapping,
    parse_card_settlement,
)
from posrefund.adapters.settlement.files import ImportArguments, SettlementFile, open_settlement_file
from posrefund.adapters.settlement.model import BadLine, ParsedLine, SettlementLine, Tally
from posrefund.adapters.settlement.reading import SettlementFormatError, file_fingerprint, text_encoding, yuan_to_fen
from posrefund.adapters.settlement.wechat import parse_wechat_bill

__all__ = [
    "DEFAULT_CARD_MAPPING",
    "BadLine",
    "CardMapping",
    "ImportArguments",
    "ParsedLine",
    "SettlementFile",
    "SettlementFormatError",
    "SettlementLine",
    "Tally",
    "card_mapping_from_dict",
    "file_fingerprint",
    "load_card_mapping",
    "open_settlement_file",
    "parse_alipay_bill",
    "parse_card_settlement",
    "parse_wechat_bill",
    "text_encoding",
    "yuan_to_fen",
]
