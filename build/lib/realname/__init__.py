"""Real-name rules with no framework: identifier checks, masking and trust levels (可信等级)."""

from __future__ import annotations

from realname.identifiers import (
    is_valid_credit_code,
    is_valid_id_number,
    mask_id_number,
)
from realname.levels import TrustLevel

__all__ = ["TrustLevel", "is_valid_credit_code", "is_valid_id_number", "mask_id_number"]
