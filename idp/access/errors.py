"""Errors raised by the access services; views and the CLI turn them into messages."""

from __future__ import annotations


class AccessError(ValueError):
    """An access request cannot be carried out; `code` names why (stable, for messages)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
