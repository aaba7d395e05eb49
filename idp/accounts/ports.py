"""What the account page needs from higher layers, as interfaces they implement."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol


@dataclass(frozen=True)
class AuthorizedApp:
    client_id: str
    name: str
    scopes: list[str]
    granted_at: datetime


class Authorizations(Protocol):
    """The business systems a person has authorised (implemented by idp.oauth)."""

    def list_for(self, user_id: str) -> list[AuthorizedApp]: ...

    def revoke(self, user_id: str, client_id: str, ip: str | None) -> bool: ...

    def client_names(self, client_ids: list[str]) -> dict[str, str]: ...


class OnlineVerification(Protocol):
    """Whether real-name verification online is set up (implemented by idp.identity): its
    adapter to the national platform, None when online verification is off."""

    platform: Any


# --- a copy of the person's data (PIPL Art. 45, idp.accounts.personal_data) ---
# Each higher layer hands over what it holds about one person, already reduced to what the
# person may see: never a full document number, a secret, a token, nor another person (the
# staff member or operator behind a record is named by their service hall only).


@dataclass(frozen=True)
class VerificationEntry:
    """One verification record (核验记录). Labels are in the request's language."""

    at: datetime
    method: str
    method_label: str
    level: int
    result: str
    result_label: str
    document_type: str | None
    masked_number: str | None
    hall_code: str | None  # where a counter record was made
    transaction_id: str | None  # the national platform's reference for an online check
    score: float | None  # the platform's face-match score
    document_valid_until: str | None  # the document's expiry, as read at the counter
    revoked_at: datetime | None


@dataclass(frozen=True)
class ClaimEntry:
    """A document the person proved while another account held it (an identity case); the
    other account is not named."""

    opened_at: datetime
    document_type: str
    masked_number: str
    name: str | None  # the name the person proved with it
    method: str
    method_label: str
    level: int
    status: str  # open | resolved
    resolution: str | None  # transferred | kept
    resolved_at: datetime | None


class IdentityRecords(Protocol):
    """The person's verification records and claims (implemented by idp.identity)."""

    def verifications_of(self, user_id: str) -> list[VerificationEntry]: ...

    def claims_of(self, user_id: str) -> list[ClaimEntry]: ...


@dataclass(frozen=True)
class GrantEntry:
    """One authorisation a business system received at a sign-in (its tokens descend from
    it): the scopes, the level and methods it carried; counts of tokens, never tokens."""

    client_id: str
    name: str
    scopes: list[str]
    granted_at: datetime
    revoked_at: datetime | None
    acr: str
    amr: list[str]
    tokens_issued: int
    last_token_at: datetime | None


class AuthorizationHistory(Protocol):
    """Every authorisation the person gave business systems (implemented by idp.oauth)."""

    def grants_of(self, user_id: str) -> list[GrantEntry]: ...


@dataclass(frozen=True)
class ActivationEntry:
    """An activation code printed for the person at a counter (never the code)."""

    purpose: str  # activate | reset
    hall_code: str
    issued_at: datetime
    expires_at: datetime
    used_at: datetime | None
    revoked_at: datetime | None


class CounterRecords(Protocol):
    """Service-hall names and the person's activation codes (implemented by idp.counter)."""

    def hall_names(self, codes: list[str]) -> dict[str, str]: ...

    def activation_codes_of(self, user_id: str) -> list[ActivationEntry]: ...
