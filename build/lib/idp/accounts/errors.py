"""Errors raised by account services; views turn them into messages in the user's language."""

from __future__ import annotations


class AccountError(ValueError):
    """A request about an account cannot be carried out; `code` names why."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
