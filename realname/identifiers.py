"""Compatibility: the first identifier helpers, now implemented in realname.documents."""

from __future__ import annotations

from realname.documents import is_valid_credit_code, is_valid_id_number, mask_id_number

__all__ = ["is_valid_credit_code", "is_valid_id_number", "mask_id_number"]
