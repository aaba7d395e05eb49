"""The LoginEvidence port: the token-record implementation (idp.oauth.evidence) and the
deterministic fake answer alike, day by Beijing day; the rollup recomputes exactly the days it
is asked for, idempotently, and never erases days the evidence no longer holds."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from idp.access.models import ClientDay
from idp.access.ports import BEIJING, RecordedLogins
from idp.access.services import AccessService
from idp.extensions import db
from idp.oauth.evidence import TokenLoginEvidence
from idp.oauth.models import TokenIssued

LOGINS = [  # (client, grant type, instant)
    ("c1", "authorization_code", datetime(2026, 3, 1, 15, 59, 59, tzinfo=UTC)),  # 23:59:59 CST
    ("c1", "authorization_code", datetime(2026, 3, 1, 16, 0, 0, tzinfo=UTC)),  # 00:00 next day
    ("c1", "authorization_code", datetime(2026, 3, 2, 15, 59, 0, tzinfo=UTC)),
    ("c2", "authorization_code", datetime(2026, 3, 2, 1, 0, 0, tzinfo=UTC)),
    ("c1", "refresh_token", datetime(2026, 3, 2, 2, 0, 0, tzinfo=UTC)),  # not a login
    ("c2", "client_credentials", datetime(2026, 3, 2, 2, 0, 0, tzinfo=UTC)),  # not a login
    ("c1", "authorization_code", datetime(2026, 2, 28, 15, 59, 59, tzinfo=UTC)),  # before since
    ("c2", "authorization_code", datetime(2026, 3, 3, 16, 0, 0, tzinfo=UTC)),  # at until
]
SINCE = datetime(2026, 2, 28, 16, 0, tzinfo=UTC)  # 2026-03-01 00:00 Beijing
UNTIL = datetime(2026, 3, 4, 0, 0, tzinfo=BEIJING)  # any zone: the bounds are instants


def _token_records() -> TokenLoginEvidence:
    for n, (client, grant, at) in enumerate(LOGINS):
        db.session.add(TokenIssued(issued_at=at, grant_type=grant, client_id=client,
                                   jti=f"jti-{n}", scope="openid"))
    db.session.commit()
    return TokenLoginEvidence()


def _recorded() -> RecordedLogins:
    return RecordedLogins((c, at) for c, grant, at in LOGINS if grant == "authorization_code")


@pytest.mark.parametrize("make", [_token_records, _recorded], ids=["token_records", "fake"])
def test_logins_are_counted_per_client_and_beijing_day_within_half_open_bounds(app, make):
    evidence = make()
    assert sorted(evidence.daily_logins(SINCE, UNTIL)) == [
        ("c1", date(2026, 3, 1), 1), ("c1", date(2026, 3, 2), 2), ("c2", date(2026, 3, 2), 1)]


def test_token_records_refuse_naive_bounds(app):
    with pytest.raises(ValueError, match="aware"):
        TokenLoginEvidence().daily_logins(datetime(2026, 3, 1), UNTIL)


def _rows() -> dict[tuple[str, date], int]:
    db.session.expire_all()
    return {(r.client_id, r.day): r.logins for r in db.session.execute(select(ClientDay)).scalars()}


def _now(app) -> datetime:
    return datetime.fromtimestamp(app.extensions["idp.clock"].now(), UTC)


def test_rollup_recomputes_the_days_asked_for_and_is_idempotent(app, access):
    today = access.today()
    fake = RecordedLogins()
    fake.add("c1", _now(app), times=3)
    fake.add("c2", _now(app) - timedelta(days=1))
    db.session.add(ClientDay(client_id="old", day=today - timedelta(days=10), logins=5))
    first = access.rollup(fake, 3)
    assert (first.first_day, first.last_day) == (today - timedelta(days=2), today)
    assert (first.client_days, first.logins, first.written, first.removed) == (2, 4, 2, 0)
    expected = {("c1", today): 3, ("c2", today - timedelta(days=1)): 1,
                ("old", today - timedelta(days=10)): 5}
    assert _rows() == expected
    again = access.rollup(fake, 3)
    assert (again.written, again.removed) == (0, 0) and _rows() == expected

    fake.logins = [entry for entry in fake.logins if entry[0] == "c1"][:2]
    changed = access.rollup(fake, 3)
    assert (changed.written, changed.removed) == (1, 1)
    assert _rows() == {("c1", today): 2, ("old", today - timedelta(days=10)): 5}


def test_rollup_never_recomputes_days_older_than_the_evidence_keeps(app):
    service = AccessService(app.extensions["idp.clock"], live_days=30, evidence_days=5)
    today = service.today()
    db.session.add(ClientDay(client_id="c1", day=today - timedelta(days=4), logins=7))
    done = service.rollup(RecordedLogins(), 30)  # the source purged everything
    assert (done.first_day, done.removed) == (today - timedelta(days=3), 0)
    assert _rows() == {("c1", today - timedelta(days=4)): 7}


def test_refresh_starts_from_the_last_day_rolled_up_so_a_missed_run_heals(app, access):
    clock = app.extensions["idp.clock"]
    fake = RecordedLogins()
    first = access.refresh(fake)  # first use: the whole live window
    assert (first.first_day, first.last_day) == (access.today() - timedelta(days=29),
                                                 access.today())
    assert access.refresh(fake).first_day == access.today() - timedelta(days=1)

    marked = access.today()
    clock.advance(10 * 24 * 3600)  # ten days without a rollup, a login in between
    fake.add("c1", _now(app) - timedelta(days=5))
    assert access.rollup(fake, 2).first_day == access.today() - timedelta(days=1)  # a gap:
    healed = access.refresh(fake)  # the mark stayed, so the refresh covers the gap
    assert (healed.first_day, healed.logins) == (marked, 1)
    assert _rows() == {("c1", access.today() - timedelta(days=5)): 1}
    assert access.refresh(fake).first_day == access.today() - timedelta(days=1)


def test_refresh_with_a_max_age_skips_while_the_last_rollup_is_recent(app, access):
    fake = RecordedLogins()
    assert access.refresh(fake, max_age=60) is not None  # never rolled up
    assert access.refresh(fake, max_age=60) is None
    app.extensions["idp.clock"].advance(61)
    assert access.refresh(fake, max_age=60) is not None
    assert access.refresh(fake) is not None  # without max_age: always
