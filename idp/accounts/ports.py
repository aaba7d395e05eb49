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
