"""SSO session lifetimes (docs/configuration.md): a session unused for IDP_SESSION_IDLE_TTL
(30 min) ends, and every session ends IDP_SESSION_MAX_TTL (12 h) after it began, however
busy; activity keeps an idle session alive. Times are moved in the stored session, as if
that long had passed."""

from __future__ import annotations

import json

from idp.extensions import get_store
from tests.integration.citizens import sid_of


def _age(app, browser, **seconds: int) -> None:
    store, key = get_store(app), "sso:" + sid_of(browser)
    data = json.loads(store.get(key))
    for name, delta in seconds.items():
        data[name] -= delta
    store.set(key, json.dumps(data), 3600)


def _signed_in(browser) -> bool:
    return browser.client.get("/account").status_code == 200


def test_a_session_unused_for_the_idle_lifetime_ends(app, browser, make_user, provider):
    browser.login(make_user())
    idle = app.extensions["idp.sessions"].idle_ttl
    assert idle == 30 * 60
    _age(app, browser, last_seen=idle - 60)
    assert _signed_in(browser)  # 29 minutes idle: still signed in, and now active again
    _age(app, browser, last_seen=idle)
    assert not _signed_in(browser)


def test_activity_does_not_extend_a_session_past_its_absolute_lifetime(app, browser,
                                                                       make_user):
    browser.login(make_user())
    max_ttl = app.extensions["idp.sessions"].max_ttl
    assert max_ttl == 12 * 3600
    _age(app, browser, created=max_ttl - 60)
    assert _signed_in(browser)  # busy for 11 h 59 min
    _age(app, browser, created=60)
    assert not _signed_in(browser)
    assert browser.client.get("/account").headers["Location"].startswith("/login")


def test_moving_the_clock_past_the_idle_lifetime_ends_the_session(app, browser, make_user):
    """The sessions read the one injectable clock (idp/clock.py): time moves, nothing is
    deleted from the store."""
    browser.login(make_user())
    clock, idle = app.extensions["idp.clock"], app.extensions["idp.sessions"].idle_ttl
    clock.advance(idle - 60)
    assert _signed_in(browser)
    clock.advance(idle)
    assert not _signed_in(browser)
