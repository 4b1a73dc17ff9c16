"""The characters each channel allows in the identifiers we send it, written once for every door.

Unicode has many more digits and letters than ASCII (``٤``, ``４``, ``²`` are all ``str.isdigit()``); a voucher
number written with them was accepted, then could not be encoded for the acquirer and left its refund stuck.
Each pattern is plain ASCII and is matched whole (``fullmatch``: a trailing newline is not allowed either).
"""

from __future__ import annotations

import re

VOUCHER_NO = "[0-9]{1,12}"  # 凭证号 / trace number
BATCH_NO = "[0-9]{1,6}"  # 批次号
RRN = "[A-Za-z0-9]{1,12}"  # 参考号, retrieval reference number
AUTH_CODE = "[A-Za-z0-9]{0,6}"  # 授权码
ORDER_NO = "[A-Za-z0-9_|*@-]{0,64}"  # out_trade_no: WeChat Pay and Alipay allow these
TERMINAL_NO = "[A-Za-z0-9]{1,16}"  # 终端号
MERCHANT_CODE = "[A-Za-z0-9_-]{2,32}"  # 商户号 / our merchant code


def is_identifier(pattern: str, value: str) -> bool:
    """True when the whole of ``value`` is made of what ``pattern`` allows (``re`` caches the compiled form)."""
    return re.fullmatch(pattern, value) is not None


def anchored(pattern: str) -> str:
    """The pattern for a pydantic ``Field(pattern=…)``, whose regex must be anchored to match whole."""
    return f"^(?:{pattern})$"
