"""What the access domain needs from higher layers: the evidence that business systems'
clients completed SSO logins (implemented over the token issuance records by idp.oauth)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Protocol

# Days are Beijing-time days (UTC+8 all year: China has kept no daylight saving since 1991).
BEIJING = timezone(timedelta(hours=8), "CST")


class LoginEvidence(Protocol):
    def daily_logins(self, since: datetime,
                     until: datetime) -> Iterable[tuple[str, date, int]]:
        """(client_id, Beijing-time day, completed SSO logins) for every client with at least
        one login in [since, until): an authorization code redeemed for tokens counts once.
        `since` and `until` are aware datetimes; counts only, never who logged in."""
        ...


class RecordedLogins:
    """A deterministic LoginEvidence fed with login instants (tests, benchmarks, demos)."""

    def __init__(self, logins: Iterable[tuple[str, datetime]] = ()) -> None:
        self.logins: list[tuple[str, datetime]] = list(logins)

    def add(self, client_id: str, at: datetime, times: int = 1) -> None:
        self.logins.extend([(client_id, at)] * times)

    def daily_logins(self, since: datetime,
                     until: datetime) -> Iterable[tuple[str, date, int]]:
        counts = Counter((client_id, at.astimezone(BEIJING).date())
                         for client_id, at in self.logins if since <= at < until)
        return [(client_id, day, n) for (client_id, day), n in sorted(counts.items())]


def beijing_midnight(day: date) -> datetime:
    """The instant a Beijing-time day begins, in UTC."""
    return datetime(day.year, day.month, day.day, tzinfo=BEIJING).astimezone(UTC)
