"""Real-name rules with no framework: document checks, masking, fingerprints, trust levels."""

from __future__ import annotations

from realname.documents import (
    REASONS,
    CheckResult,
    DocumentType,
    Reason,
    check,
    check_credit_code,
    check_id_number,
    check_passport,
    is_valid_credit_code,
    is_valid_id_number,
    mask,
    mask_id_number,
)
from realname.fingerprints import Fingerprinter
from realname.levels import TrustLevel

__all__ = [
    "REASONS",
    "CheckResult",
    "DocumentType",
    "Fingerprinter",
    "Reason",
    "TrustLevel",
    "check",
    "check_credit_code",
    "check_id_number",
    "check_passport",
    "is_valid_credit_code",
    "is_valid_id_number",
    "mask",
    "mask_id_number",
]
