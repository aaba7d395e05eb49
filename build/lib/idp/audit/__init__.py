"""Append-only, hash-chained audit log of security-relevant events."""
