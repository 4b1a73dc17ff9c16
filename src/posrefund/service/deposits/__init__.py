"""Deposits (定金, 订金, 押金): the merchant's terms templates (``terms``), deposits recorded on sales and those
held beyond their terms (``holding``), and refund proposals with their decision (``proposals``): the
original-route part a normal refund through the core, the penalty of a double return a linked bank-transfer
payout. The arithmetic is ``domain/deposits.py``; the reasons are in docs/deposits.md."""
