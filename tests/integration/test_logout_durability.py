"""Ending a session is one unit of work: its grants are revoked and its back-channel notices
queued in the transaction that records the logout, and only then does the session leave the
store. A failure at any step leaves everything as it was, and a retry completes the work;
notices a business system did not take are retried (`idp logout deliver`). A notice is sent
by one delivery at a time: one that overlaps another (a scheduler beside a business system
slow to answer) leaves alone what the other holds, and a sender that died holds nothing for
longer than its claim."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask, request
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from idp import create_app
from idp.extensions import db, get_store
from idp.oauth.models import LogoutNotice, aware
from idp.settings import Settings
from tests.conftest import TEST_SECRET, Browser, LiveServer, exchange, redirect_params
from tests.integration.helpers import refresh


@pytest.fixture
def flaky_receiver():
    """A business system's back-channel endpoint that fails until told to recover."""
    state: dict[str, Any] = {"fail": True, "received": []}
    rp = Flask("flaky-receiver")

    @rp.post("/bc")
    def bc():
        state["received"].append(request.form["logout_token"])
        return ("", 503) if state["fail"] else ("", 200)

    server = LiveServer(rp)
    server.state = state
    yield server
    server.stop()


@pytest.fixture
def slow_receiver():
    """A business system's back-channel endpoint that holds the first POST until released
    (at most 10 s) and answers every POST 200."""
    state: dict[str, Any] = {"received": [], "arrived": threading.Event(),
                             "release": threading.Event()}
    rp = Flask("slow-receiver")

    @rp.post("/bc")
    def bc():
        state["received"].append(request.form["logout_token"])
        if len(state["received"]) == 1:
            state["arrived"].set()
            state["release"].wait(10)
        return "", 200

    server = LiveServer(rp)
    server.state = state
    yield server
    state["release"].set()
    server.stop()


def _signed_in(app, browser: Browser, user, client) -> dict[str, Any]:
    browser.login(user)
    code, verifier = browser.code_for(client)
    return dict(exchange(app, client, code, verifier).json)


def _still_signed_in(browser: Browser, client) -> bool:
    return "code" in redirect_params(browser.authorize(client, prompt="none"))


def _fail_once(monkeypatch, target: Any, name: str, error: Exception) -> None:
    original = getattr(target, name)
    calls = {"n": 0}

    def failing(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            raise error
        return original(*args, **kwargs)

    monkeypatch.setattr(target, name, failing)


def test_a_database_failure_during_logout_leaves_the_session_whole_and_a_retry_completes(
        app, browser, make_user, make_client, monkeypatch):
    user, client = make_user(), make_client()
    tokens = _signed_in(app, browser, user, client)
    _fail_once(monkeypatch, db.session, "commit",
               OperationalError("COMMIT", {}, Exception("server closed the connection")))
    failed = browser.client.get("/logout", query_string={"id_token_hint": tokens["id_token"]})
    assert failed.status_code >= 500
    # nothing half-done: the session and its refresh token are both still alive
    assert _still_signed_in(browser, client)
    tokens = dict(refresh(app, client, tokens["refresh_token"]).json)
    assert "refresh_token" in tokens
    retried = browser.client.get("/logout", query_string={"id_token_hint": tokens["id_token"]})
    assert retried.status_code == 200
    assert not _still_signed_in(browser, client)
    assert refresh(app, client, tokens["refresh_token"]).json["error"] == "invalid_grant"


def test_a_store_failure_after_the_logout_committed_keeps_the_grants_revoked_and_a_retry_ends_it(
        app, browser, make_user, make_client, monkeypatch):
    user, client = make_user(), make_client()
    tokens = _signed_in(app, browser, user, client)
    _fail_once(monkeypatch, get_store(app), "delete", ConnectionError("store unreachable"))
    failed = browser.client.get("/logout", query_string={"id_token_hint": tokens["id_token"]})
    assert failed.status_code >= 500
    # the security decision was committed first: the grant is revoked already
    assert refresh(app, client, tokens["refresh_token"]).json["error"] == "invalid_grant"
    retried = browser.client.get("/logout", query_string={"id_token_hint": tokens["id_token"]})
    assert retried.status_code == 200
    assert not _still_signed_in(browser, client)


def test_a_back_channel_logout_that_failed_is_owed_until_delivered(
        app, browser, make_user, make_client, flaky_receiver):
    user = make_user()
    client = make_client(backchannel_logout_uri=flaky_receiver.url + "/bc")
    tokens = _signed_in(app, browser, user, client)
    browser.client.get("/logout", query_string={"id_token_hint": tokens["id_token"]})
    assert len(flaky_receiver.state["received"]) == 1  # tried at once, refused (503)
    [owed] = db.session.execute(select(LogoutNotice)).scalars().all()
    assert owed.delivered_at is None and owed.attempts == 1 and owed.last_status == 503
    flaky_receiver.state["fail"] = False
    result = app.test_cli_runner().invoke(args=["logout", "deliver"])
    assert result.exit_code == 0
    assert result.stdout == "delivered 1 of 1 pending back-channel logout(s)\n"
    assert len(flaky_receiver.state["received"]) == 2
    db.session.expire_all()
    [done] = db.session.execute(select(LogoutNotice)).scalars().all()
    assert done.delivered_at is not None and done.attempts == 2
    again = app.test_cli_runner().invoke(args=["logout", "deliver"])
    assert again.stdout == "delivered 0 of 0 pending back-channel logout(s)\n"
    assert len(flaky_receiver.state["received"]) == 2  # never twice once delivered


def test_users_logout_from_another_process_ends_sessions_it_cannot_see(
        app, browser, make_user, make_client):
    """The embedded store lives in the server's memory: an operator's `idp users logout` run
    as a separate process cannot see those sessions, yet they end at their next use."""
    user, client = make_user(), make_client()
    tokens = _signed_in(app, browser, user, client)
    settings = app.extensions["idp.settings"]
    elsewhere = create_app(Settings.from_env(
        {}, env="test", secret_key=TEST_SECRET, issuer=settings.issuer,
        database_url=settings.database_url, argon2_memory_kib=8192, argon2_time_cost=1),
        TESTING=True)
    with elsewhere.app_context():  # the command runs in that other app, not in the server's
        try:
            result = elsewhere.test_cli_runner().invoke(args=["users", "logout", "--username",
                                                              user.username])
        finally:
            db.session.remove()
            db.engine.dispose()
    assert result.exit_code == 0
    assert result.stdout == f"ended 0 session(s) of {user.username}\n"
    assert "out of this command's reach" in result.stderr
    assert not _still_signed_in(browser, client)
    assert browser.client.get("/account").status_code == 303  # back to the login page
    assert refresh(app, client, tokens["refresh_token"]).json["error"] == "invalid_grant"


def test_a_logout_still_in_flight_is_not_sent_again_by_a_delivery_running_meanwhile(
        app, browser, make_user, make_client, slow_receiver):
    user = make_user()
    client = make_client(backchannel_logout_uri=slow_receiver.url + "/bc")
    tokens = _signed_in(app, browser, user, client)
    answered: list[Any] = []
    logging_out = threading.Thread(target=lambda: answered.append(browser.client.get(
        "/logout", query_string={"id_token_hint": tokens["id_token"]})))
    logging_out.start()
    try:
        assert slow_receiver.state["arrived"].wait(10), "the logout sent no back-channel logout"
        # while the logout's own delivery waits for the business system's answer
        meanwhile = app.test_cli_runner().invoke(args=["logout", "deliver"])
    finally:
        slow_receiver.state["release"].set()
        logging_out.join(30)
    assert meanwhile.exit_code == 0
    assert meanwhile.stdout == "delivered 0 of 0 pending back-channel logout(s)\n"
    assert [r.status_code for r in answered] == [200]
    assert len(slow_receiver.state["received"]) == 1
    db.session.expire_all()
    [done] = db.session.execute(select(LogoutNotice)).scalars().all()
    assert done.delivered_at is not None and done.attempts == 1 and done.last_status == 200
    assert done.claimed_until is None


def test_a_sender_that_died_holds_its_notice_until_its_claim_runs_out_and_no_longer(
        app, browser, make_user, make_client, flaky_receiver, monkeypatch):
    user = make_user()
    client = make_client(backchannel_logout_uri=flaky_receiver.url + "/bc")
    tokens = _signed_in(app, browser, user, client)
    browser.client.get("/logout", query_string={"id_token_hint": tokens["id_token"]})
    assert len(flaky_receiver.state["received"]) == 1  # refused (503): owed
    flaky_receiver.state["fail"] = False
    handler = app.extensions["idp.session_end"]
    clock = app.extensions["idp.clock"]
    claimed_at = handler._now()
    _fail_once(monkeypatch, handler, "_send", RuntimeError("the sender's process died"))
    with pytest.raises(RuntimeError):
        handler.deliver_pending()  # claimed, then gone before sending anything
    db.session.rollback()
    [held] = db.session.execute(select(LogoutNotice)).scalars().all()
    claimed_until = aware(held.claimed_until)
    longest_post = timedelta(seconds=2 * app.extensions["idp.settings"].backchannel_timeout)
    assert claimed_until > claimed_at + longest_post  # outlasts any POST it could be making
    assert held.attempts == 1 and held.delivered_at is None

    clock.advance((claimed_until - claimed_at).total_seconds() - 1)  # not yet run out
    assert handler.deliver_pending() == []
    assert len(flaky_receiver.state["received"]) == 1
    clock.advance(2)  # run out: anyone may take the notice up again
    assert [(d.ok, d.status) for d in handler.deliver_pending()] == [(True, 200)]
    assert handler.deliver_pending() == []
    assert len(flaky_receiver.state["received"]) == 2
    db.session.expire_all()
    [done] = db.session.execute(select(LogoutNotice)).scalars().all()
    assert done.delivered_at is not None and done.attempts == 2 and done.claimed_until is None


def test_a_post_whose_claim_would_run_out_before_it_ends_is_not_started(
        app, browser, make_user, make_client, flaky_receiver, monkeypatch):
    """The claim allows PREPARE seconds before the first POST; a delivery slower than that
    (here: none at all) sends nothing rather than a POST another sender may repeat."""
    from idp.oauth import logout

    user = make_user()
    client = make_client(backchannel_logout_uri=flaky_receiver.url + "/bc")
    tokens = _signed_in(app, browser, user, client)
    flaky_receiver.state["fail"] = False
    monkeypatch.setattr(logout, "PREPARE", 0.0)
    browser.client.get("/logout", query_string={"id_token_hint": tokens["id_token"]})
    assert flaky_receiver.state["received"] == []
    [owed] = db.session.execute(select(LogoutNotice)).scalars().all()
    assert owed.attempts == 0 and owed.delivered_at is None and owed.claimed_until is None
    monkeypatch.undo()
    result = app.test_cli_runner().invoke(args=["logout", "deliver"])
    assert result.stdout == "delivered 1 of 1 pending back-channel logout(s)\n"
    assert len(flaky_receiver.state["received"]) == 1
