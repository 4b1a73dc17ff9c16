"""Local stand-ins for the acquirer host, WeChat Pay and Alipay that speak their real protocols,
keep their own ledger of executed refunds and inject faults on request. Used by the demo and tests."""
