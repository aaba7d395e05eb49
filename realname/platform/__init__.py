"""The national trusted-identity platform (CTID) as one small interface, with its HTTP adapter.

The simulator (`realname.platform.simulator`) is imported on its own; production code needs only
what is exported here.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from realname.platform.adapter import IMAGE_LIMIT, HttpPlatform
from realname.platform.results import Outcome, PlatformResult, Reason


@runtime_checkable
class IdentityPlatform(Protocol):
    """What the provider asks the national platform. Implementations never raise."""

    def check_name_and_number(self, name: str, id_number: str) -> PlatformResult:
        """Two-element check: match; no_match (name_mismatch: the number belongs to another
        name); not_found (number_not_found); or error with a reason."""
        ...

    def check_real_person(self, name: str, id_number: str, image: bytes,
                          image_type: str) -> PlatformResult:
        """Real-person check (name, number and a face photo, PNG or JPEG ≤ IMAGE_LIMIT bytes):
        match with a score ≥ the threshold; no_match (face_mismatch with the score, or
        name_mismatch); not_found (number_not_found); or error (bad_image, timed_out, ...)."""
        ...


__all__ = ["IMAGE_LIMIT", "HttpPlatform", "IdentityPlatform", "Outcome", "PlatformResult",
           "Reason"]
