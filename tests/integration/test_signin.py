"""The sign-in service every login method calls (design.md "Sign-in"): the session's amr comes
from the assurance rules only, the failure count is cleared, the sign-in is audited, and a
browser's session of another person ends first."""

from __future__ import annotations

from idp.accounts.models import LoginGuardRow
from idp.audit.tags import Tag
from idp.extensions import db
from tests.conftest import Browser
from tests.integration.citizens import audit_events, lock_subject


def test_sign_in_takes_amr_from_the_rules_clears_failures_and_audits(app, make_user):
    user = make_user()
    Browser(app.test_client()).login(user, password="Wrong-Horse-1")  # one failure
    subject = lock_subject(app, user)
    assert db.session.get(LoginGuardRow, subject, populate_existing=True).failures == 1
    signin = app.extensions["idp.signin"]
    done = signin.complete(user.id, ["sms", "sms", "mfa"], current=None, ip="203.0.113.9",
                           user_agent="test")
    assert done.session.amr == ["sms"] and done.cookie is not None  # no mfa from one factor
    assert db.session.get(LoginGuardRow, subject, populate_existing=True).failures == 0
    [signed_in] = audit_events(Tag.LOGIN_SUCCESS.value, user.id)
    assert signed_in.data == {"sid": done.session.sid, "amr": ["sms"]}
    assert signed_in.ip == "203.0.113.9" and signed_in.actor == "citizen:" + user.id


def test_sign_in_continues_the_same_persons_session_and_ends_another_persons(app, make_user):
    first, second = make_user(), make_user()
    signin, sessions = app.extensions["idp.signin"], app.extensions["idp.sessions"]
    started = signin.complete(first.id, ["pwd"], current=None, ip=None, user_agent=None)
    stepped = signin.complete(first.id, ["pwd", "otp"], current=started.session, ip=None,
                              user_agent=None)
    assert stepped.cookie is None and stepped.session.sid == started.session.sid
    assert sessions.get(started.session.sid).amr == ["mfa", "otp", "pwd"]
    assert sessions.get(started.session.sid).auth_count == 2
    other = signin.complete(second.id, ["pwd"], current=stepped.session, ip=None,
                            user_agent=None)
    assert other.session.sid != started.session.sid
    assert sessions.get(started.session.sid) is None
