"""posrefund: the whole life of a refund of a POS payment."""

__version__ = "0.1.0"
