"""What a national-platform check returns: an outcome and a stable reason, never an exception."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Outcome(StrEnum):
    MATCH = "match"
    NO_MATCH = "no_match"
    NOT_FOUND = "not_found"
    ERROR = "error"


class Reason(StrEnum):
    """Stable reason codes; callers and audit records may rely on these strings."""

    NAME_MISMATCH = "name_mismatch"  # no_match: the number exists under another name
    FACE_MISMATCH = "face_mismatch"  # no_match: the photo is not the holder of the number
    NUMBER_NOT_FOUND = "number_not_found"  # not_found: no such ID number
    BAD_IMAGE = "bad_image"  # error: not a PNG/JPEG, empty or too large
    INVALID_REQUEST = "invalid_request"  # error: the platform refused the input (HTTP 400)
    TIMED_OUT = "timed_out"  # error: no answer within the timeout (after retries)
    UNAVAILABLE = "unavailable"  # error: connection refused/reset or 5xx (after retries)
    RATE_LIMITED = "rate_limited"  # error: 429 (after retries)
    REJECTED = "rejected"  # error: 401/403, the platform refused our credentials or signature
    BAD_RESPONSE = "bad_response"  # error: unsigned, badly signed or malformed answer


# Errors that say nothing about the person: the same check may succeed later.
RETRYABLE_REASONS = frozenset({Reason.TIMED_OUT, Reason.UNAVAILABLE, Reason.RATE_LIMITED})


@dataclass(frozen=True)
class PlatformResult:
    """One check's result. `score` is set by the real-person check only (0..1)."""

    outcome: Outcome
    reason: str | None = None
    transaction_id: str | None = None
    timed_out: bool = False
    score: float | None = None
    attempts: int = 1

    @property
    def matched(self) -> bool:
        return self.outcome is Outcome.MATCH

    @property
    def retryable(self) -> bool:
        """True for transient failures (timeout, outage, rate limit), never for an answer."""
        return self.outcome is Outcome.ERROR and self.reason in RETRYABLE_REASONS

    # Constructors for the error cases ----------------------------------------------------

    @classmethod
    def error(cls, reason: str, *, attempts: int = 1, timed_out: bool = False,
              transaction_id: str | None = None) -> PlatformResult:
        return cls(Outcome.ERROR, reason, transaction_id=transaction_id, timed_out=timed_out,
                   attempts=attempts)

    @classmethod
    def timeout(cls, *, attempts: int = 1) -> PlatformResult:
        return cls.error(Reason.TIMED_OUT, attempts=attempts, timed_out=True)

    @classmethod
    def unavailable(cls, *, attempts: int = 1) -> PlatformResult:
        return cls.error(Reason.UNAVAILABLE, attempts=attempts)

    @classmethod
    def rate_limited(cls, *, attempts: int = 1) -> PlatformResult:
        return cls.error(Reason.RATE_LIMITED, attempts=attempts)

    @classmethod
    def rejected(cls, *, attempts: int = 1) -> PlatformResult:
        return cls.error(Reason.REJECTED, attempts=attempts)

    @classmethod
    def bad_response(cls, *, attempts: int = 1) -> PlatformResult:
        return cls.error(Reason.BAD_RESPONSE, attempts=attempts)

    @classmethod
    def bad_image(cls, *, attempts: int = 1) -> PlatformResult:
        return cls.error(Reason.BAD_IMAGE, attempts=attempts)

    @classmethod
    def invalid_request(cls, *, attempts: int = 1) -> PlatformResult:
        return cls.error(Reason.INVALID_REQUEST, attempts=attempts)
