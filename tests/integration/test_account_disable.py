"""Disabling and re-enabling an account by an operator (`idp users disable|enable --reason`,
docs/account-lifecycle.md): a disabled account cannot sign in, its sessions end and its tokens
stop working at once (refresh, UserInfo, introspection); enabling lets it sign in again without
reviving anything that ended; every refusal of the commands is one sentence and exit 2.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from idp.accounts.models import User
from idp.accounts.signals import (
    ACCOUNT_DISABLED,
    ACCOUNT_ENABLED,
    EXTENSION,
    SESSIONS_REVOKED,
    AccountSignal,
)
from idp.audit.tags import Tag
from idp.extensions import db
from tests.conftest import Browser, sms_messages
from tests.integration.citizens import WRONG_LOGIN, audit_events, error_of
from tests.integration.helpers import introspect, offline_tokens_for, refresh, tokens_for

INACTIVE = {"active": False}
INVALID_TOKEN = {"error": "invalid_token",
                 "error_description": "The access token is invalid or expired."}


@pytest.fixture
def runner(app, monkeypatch):
    monkeypatch.setenv("IDP_OPERATOR", "ops-zhang")
    return app.test_cli_runner()


@pytest.fixture
def signals(app) -> Iterator[list[AccountSignal]]:
    heard: list[AccountSignal] = []
    listeners = app.extensions[EXTENSION].listeners
    listeners.append(heard.append)
    yield heard
    listeners.remove(heard.append)


def _userinfo(app, access_token: str):
    return app.test_client().get("/userinfo",
                                 headers={"Authorization": "Bearer " + access_token})


def _disable(runner, username: str, reason: str = "疑似账号被盗用，本人来电要求停用"):
    return runner.invoke(args=["users", "disable", "--username", username, "--reason", reason])


def _enable(runner, username: str, reason: str = "本人持身份证到窗口核实"):
    return runner.invoke(args=["users", "enable", "--username", username, "--reason", reason])


def test_disabling_ends_every_session_and_stops_every_token_at_once(
        app, runner, make_user, make_client, sms_platform, signals):
    user = make_user()
    client = make_client(scope="openid profile offline_access")
    browser = Browser(app.test_client())
    online = tokens_for(app, browser, user, client)
    offline = offline_tokens_for(app, Browser(app.test_client()), user, client)
    assert _userinfo(app, online["access_token"]).status_code == 200
    result = _disable(runner, user.username)
    assert result.exit_code == 0, result.output
    assert result.stdout == f"{user.username} is disabled: every session and grant ended\n"
    assert browser.client.get("/account").status_code == 303
    for tokens in (online, offline):
        assert refresh(app, client, tokens["refresh_token"]).json["error"] == "invalid_grant"
        assert _userinfo(app, tokens["access_token"]).json == INVALID_TOKEN
        assert introspect(app, client, tokens["access_token"]).json == INACTIVE
        assert introspect(app, client, tokens["refresh_token"]).json == INACTIVE
    db.session.expire_all()
    assert db.session.get(User, user.id).disabled is True
    [event] = audit_events(Tag.ACCOUNT_DISABLED.value, user.id)
    assert (event.actor, event.data) == ("operator:ops-zhang",
                                         {"reason": "疑似账号被盗用，本人来电要求停用"})
    assert [m["template"] for m in sms_messages(sms_platform, user.phone)][-1] == \
        "account_disabled"
    assert [s.kind for s in signals] == [SESSIONS_REVOKED, ACCOUNT_DISABLED]


def test_a_disabled_account_cannot_sign_in_and_is_told_like_a_wrong_password(
        app, runner, make_user):
    user = make_user()
    assert _disable(runner, user.username).exit_code == 0
    response = Browser(app.test_client()).login(user)
    assert response.status_code == 400
    assert error_of(response) == WRONG_LOGIN


def test_the_disabled_flag_alone_refuses_refresh_userinfo_and_introspection(
        app, make_user, make_client):
    """Whatever happens to the grants, the token-side endpoints read `disabled` themselves."""
    user, client = make_user(), make_client(scope="openid profile offline_access")
    tokens = offline_tokens_for(app, Browser(app.test_client()), user, client)
    db.session.get(User, user.id).disabled = True  # no revocation: the flag alone
    db.session.commit()
    refused = refresh(app, client, tokens["refresh_token"])
    # RFC 6749 §5.2: the refresh token's grant no longer holds.
    assert (refused.status_code, refused.json) == (400, {
        "error": "invalid_grant", "error_description": "The account can no longer sign in."})
    assert _userinfo(app, tokens["access_token"]).json == INVALID_TOKEN
    assert introspect(app, client, tokens["refresh_token"]).json == INACTIVE
    db.session.get(User, user.id).disabled = False
    db.session.commit()
    assert _userinfo(app, tokens["access_token"]).status_code == 200  # nothing else refused it


def test_enabling_lets_the_account_sign_in_again_but_revives_nothing(
        app, runner, make_user, make_client, sms_platform, signals):
    user, client = make_user(), make_client(scope="openid profile offline_access")
    tokens = offline_tokens_for(app, Browser(app.test_client()), user, client)
    assert _disable(runner, user.username).exit_code == 0
    app.extensions["idp.clock"].advance(1)  # the new session begins after the cut-off
    result = _enable(runner, user.username)
    assert result.exit_code == 0, result.output
    assert result.stdout == f"{user.username} is enabled\n"
    browser = Browser(app.test_client())
    assert browser.login(user).status_code == 303
    assert browser.client.get("/account").status_code == 200
    assert refresh(app, client, tokens["refresh_token"]).json["error"] == "invalid_grant"
    [event] = audit_events(Tag.ACCOUNT_ENABLED.value, user.id)
    assert (event.actor, event.data) == ("operator:ops-zhang", {"reason": "本人持身份证到窗口核实"})
    assert [m["template"] for m in sms_messages(sms_platform, user.phone)][-1] == \
        "account_enabled"
    assert [s.kind for s in signals][-1] == ACCOUNT_ENABLED


def test_a_reason_with_a_long_number_is_logged_without_it(app, runner, make_user):
    user = make_user()
    assert _disable(runner, user.username, "  本人  来电\n 手机 13812345678 ").exit_code == 0
    [event] = audit_events(Tag.ACCOUNT_DISABLED.value, user.id)
    assert event.data == {"reason": "本人 来电 手机 […]"}


def test_the_account_is_found_by_its_mobile_number_too(app, runner, make_user):
    user = make_user()
    assert _disable(runner, user.phone).stdout == \
        f"{user.phone} is disabled: every session and grant ended\n"


@pytest.mark.parametrize("command", ["disable", "enable"])
def test_the_reason_is_required(runner, make_user, command):
    user = make_user()
    missing = runner.invoke(args=["users", command, "--username", user.username])
    assert missing.exit_code == 2
    assert "Missing option '--reason'" in missing.stderr
    blank = runner.invoke(args=["users", command, "--username", user.username,
                                "--reason", "   "])
    assert blank.exit_code == 2
    assert blank.stderr == "Error: give a --reason that says why (it is audited)\n"
    assert audit_events(Tag.ACCOUNT_DISABLED.value) == []


def test_refusals_are_one_sentence_and_exit_2(runner, make_user):
    user = make_user()
    not_disabled = _enable(runner, user.username)
    assert (not_disabled.exit_code, not_disabled.stderr) == (
        2, f"Error: {user.username} is not disabled\n")
    assert _disable(runner, user.username).exit_code == 0
    again = _disable(runner, user.username)
    assert (again.exit_code, again.stderr) == (2, f"Error: {user.username} is already disabled\n")
    unknown = _disable(runner, "nobody-here")
    assert (unknown.exit_code, unknown.stderr) == (
        2, "Error: there is no account with the username or mobile number “nobody-here”\n")
    assert len(audit_events(Tag.ACCOUNT_DISABLED.value)) == 1
    assert audit_events(Tag.ACCOUNT_ENABLED.value) == []
