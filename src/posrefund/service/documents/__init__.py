"""Printable documents: the refund application to the bank (``bank_applications``, its form ``bank_form``) and
the periodic refund-cause summary (``summary``: the figures and advice; ``summary_document``: as a document;
``summary_delivery``: subscriptions and the worker's sending). docs/documents.md."""
