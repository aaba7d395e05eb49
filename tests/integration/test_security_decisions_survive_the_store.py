"""A lost store (Redis restarted without persistence, keys evicted) never undoes a security
decision: revocations, refresh-reuse revocations and locks live in the database, and the
store is at most a cache of them. Losing everything the store holds is `Store.flush()`.
"""

from __future__ import annotations

from idp.extensions import get_store
from tests.conftest import Browser
from tests.integration.citizens import (
    LOCKED_RE,
    clear_wait,
    error_of,
    lock_subject,
)
from tests.integration.helpers import introspect, refresh, revoke, tokens_for

INACTIVE = {"active": False}


def _lose_the_store(app) -> None:
    get_store(app).flush()


def test_a_revoked_access_token_stays_inactive_after_the_store_is_lost(app, browser, make_user,
                                                                       make_client):
    user, client = make_user(), make_client()
    tokens = tokens_for(app, browser, user, client)
    assert revoke(app, client, tokens["access_token"]).status_code == 200
    _lose_the_store(app)
    assert introspect(app, client, tokens["access_token"]).json == INACTIVE
    userinfo = app.test_client().get(
        "/userinfo", headers={"Authorization": "Bearer " + tokens["access_token"]})
    assert userinfo.status_code == 401 and userinfo.json["error"] == "invalid_token"
    # the refresh token of the same grant was not revoked, and still works
    assert refresh(app, client, tokens["refresh_token"]).status_code == 200


def test_access_tokens_of_a_revoked_grant_stay_inactive_after_the_store_is_lost(
        app, browser, make_user, make_client):
    user, client = make_user(), make_client()
    tokens = tokens_for(app, browser, user, client)
    assert revoke(app, client, tokens["refresh_token"]).status_code == 200
    _lose_the_store(app)
    assert introspect(app, client, tokens["access_token"]).json == INACTIVE
    userinfo = app.test_client().get(
        "/userinfo", headers={"Authorization": "Bearer " + tokens["access_token"]})
    assert userinfo.status_code == 401


def test_refresh_reuse_revokes_the_grant_for_good(app, browser, make_user, make_client):
    user, client = make_user(), make_client()
    tokens = tokens_for(app, browser, user, client)
    second = refresh(app, client, tokens["refresh_token"]).json
    assert refresh(app, client, tokens["refresh_token"]).json["error"] == "invalid_grant"
    _lose_the_store(app)
    assert introspect(app, client, second["access_token"]).json == INACTIVE
    assert refresh(app, client, second["refresh_token"]).json["error"] == "invalid_grant"


def _wrong(app, user) -> str | None:
    browser = Browser(app.test_client())
    return error_of(browser.login(user, password="Wrong-Horse-1"))


def test_a_lock_survives_the_loss_of_the_store(app, make_user):
    user = make_user()
    subject = lock_subject(app, user)
    told = []
    for _ in range(5):
        told.append(_wrong(app, user))
        clear_wait(app, subject)
    assert LOCKED_RE.match(told[-1] or "")
    _lose_the_store(app)
    right = Browser(app.test_client()).login(user)
    assert right.status_code == 400 and LOCKED_RE.match(error_of(right) or "")


def test_a_lost_store_does_not_restart_the_failure_count(app, make_user):
    user = make_user()
    subject = lock_subject(app, user)
    for _ in range(3):
        _wrong(app, user)
        clear_wait(app, subject)
    _lose_the_store(app)
    _wrong(app, user)
    clear_wait(app, subject)
    assert LOCKED_RE.match(_wrong(app, user) or "")  # the fifth failure, counted across
