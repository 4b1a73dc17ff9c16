"""What a provider records when it onboards a merchant: the business licence's unified social credit code
(统一社会信用代码) and the settlement account (结算账户) its money — settlements, fee refunds, a returned 299-yuan
charge — is paid to.

The account number is checked and then reduced to what posrefund needs: the last four for people, and a keyed
fingerprint that says whether a number typed later is the same account. The number itself is never stored: an
individual merchant (个体工商户) often settles to a personal debit card, and a card number is kept nowhere. The
transfer itself is made by the provider's clearing system, which holds the account; posrefund records its reference.
"""

from __future__ import annotations

from dataclasses import dataclass

from posrefund.domain.errors import Invalid
from posrefund.domain.free_text import free_text

# GB 32100-2015: 18 characters from this alphabet (no I, O, S, V, Z); the last is a check character.
CREDIT_CODE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_CODE_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
ACCOUNT_DIGITS = (8, 32)  # bank account numbers: 8 (old passbooks) to 32 digits (some corporate accounts)


def credit_code_check(first17: str) -> str:
    """The check character of the first 17 characters (GB 32100-2015, 5.3): 31 − (Σ value × weight mod 31)."""
    total = sum(CREDIT_CODE_ALPHABET.index(ch) * w for ch, w in zip(first17, CREDIT_CODE_WEIGHTS, strict=True))
    return CREDIT_CODE_ALPHABET[(31 - total % 31) % 31]


def checked_licence_no(value: str) -> str:
    """An 18-character unified social credit code, upper-cased, with a correct check character; "" allowed."""
    code = value.strip().upper()
    if not code:
        return ""
    well_formed = len(code) == 18 and all(ch in CREDIT_CODE_ALPHABET for ch in code)
    if not well_formed or credit_code_check(code[:17]) != code[17]:
        raise Invalid("merchant.invalid_licence_no", field="licence_no")
    return code


@dataclass(frozen=True, slots=True)
class SettlementAccount:
    """A settlement account as typed: the bank, the account holder, the number (digits only)."""

    bank: str
    holder: str
    number: str

    @property
    def masked(self) -> str:
        return f"****{self.number[-4:]}"


def checked_account(bank: str, holder: str, number: str) -> SettlementAccount:
    """The three together or none; the number as digits (spaces and dashes people group it with dropped)."""
    digits = "".join(ch for ch in number if ch not in " -")
    low, high = ACCOUNT_DIGITS
    if not (digits.isascii() and digits.isdigit() and low <= len(digits) <= high):
        raise Invalid("merchant.invalid_account_no", field="settlement_account_no", low=low, high=high)
    return SettlementAccount(
        bank=free_text(bank, "settlement_bank", limit=100),
        holder=free_text(holder, "settlement_account_name", limit=200),
        number=digits,
    )
