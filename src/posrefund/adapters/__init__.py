"""Implementations of the ports: database, crypto, files, channels."""
