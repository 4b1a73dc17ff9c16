"""The fee contract the worked examples are worked by hand against (tests/unit/test_fee_rules.py, the run's fee
step in tests/recon/test_engine_fees.py): a card debit cap, a WeChat band, an Alipay minimum, and a credit raise
the merchant signed two weeks after it took effect."""

from __future__ import annotations

from datetime import date

from posrefund.domain.fees import FeePeriod, FeeRule

D = date
CONTRACT = FeePeriod(
    D(2026, 1, 1),
    (
        FeeRule("card", "credit", 6_000),  # 0.60 %
        FeeRule("card", "debit", 5_000, cap_fen=2_000),  # 0.50 %, capped at 20 yuan
        FeeRule("wechat", "any", 3_800),  # 0.38 % below 1 000 yuan
        FeeRule("wechat", "any", 5_500, band_from_fen=100_000),  # 0.55 % from 1 000 yuan
        FeeRule("alipay", "any", 3_800, min_fen=10, returned_on_refund=False),  # at least 0.10 yuan, kept on refund
    ),
    consented_on=D(2025, 12, 20),
    consent_ref="HT-2025-118",
)
# From 1 March credit cards cost 0.65 %; the merchant signed on 15 March.
RAISE = FeePeriod(
    D(2026, 3, 1),
    (*CONTRACT.rules[1:], FeeRule("card", "credit", 6_500)),
    consented_on=D(2026, 3, 15),
    consent_ref="BG-2026-031",
)
