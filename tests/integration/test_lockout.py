"""Login failure handling (GB/T 22239-2019 8.1.4.1 b 登录失败处理; OWASP ASVS 4.0 §2.2.1):
a growing delay after the second failure, a lock after five failures that says when to try
again, the same answers whether or not the account exists, an operator unlock, and a threshold
that parallel attempts cannot exceed.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import requests

from idp.accounts.models import LoginGuardRow
from idp.audit.tags import Tag
from idp.extensions import db
from tests.conftest import Browser, csrf_from
from tests.integration.citizens import (
    LOCKED_RE,
    WAIT_RE,
    WRONG_LOGIN,
    audit_events,
    clear_wait,
    error_of,
    expire_lock,
    lock_subject,
    locked_message,
    locked_until,
    text_of,
)

WRONG = "Wrong-Horse-1"


def _guard(subject):
    """The durable failure state of a subject (accounts.lockout)."""
    return db.session.get(LoginGuardRow, subject, populate_existing=True)


def _attempt(browser, identifier, password):
    page = browser.client.get("/login")
    return browser.client.post("/login", data={"csrf_token": csrf_from(text_of(page)),
                                               "identifier": identifier, "password": password})


def _five_failures(app, browser, identifier, subject):
    """Five wrong passwords, each made once the growing delay has passed (simulated by
    clearing it); returns what the person was told after each."""
    told = []
    for _ in range(5):
        clear_wait(app, subject)
        response = _attempt(browser, identifier, WRONG)
        assert response.status_code == 400
        told.append(error_of(response))
    return told


def _check_sequence(told, until):
    """Four times: wrong credentials; the 5th locks and says until when."""
    assert told[:4] == [WRONG_LOGIN] * 4
    assert told[4] == locked_message(until)
    assert len(told) == 5


def test_a_retry_within_the_growing_delay_is_told_to_wait_and_counts_as_a_failure(
        app, browser, make_user):
    """ADR 0006: a hasty retry is not checked, uses a failure slot, and the delay grows."""
    user = make_user()
    subject = lock_subject(app, user)
    for _ in range(2):
        clear_wait(app, subject)
        _attempt(browser, user.username, WRONG)
    too_early = _attempt(browser, user.username, user.password)  # even the right password
    assert too_early.status_code == 400
    match = WAIT_RE.match(error_of(too_early) or "")
    assert match and 3 <= int(match.group(1)) <= 4
    failures = audit_events(Tag.LOGIN_FAILURE.value, user.id)
    assert [e.data for e in failures] == [{"reason": "bad_credentials", "failures": 1},
                                          {"reason": "bad_credentials", "failures": 2},
                                          {"reason": "too_soon", "failures": 3}]


def test_five_wrong_passwords_lock_the_account_and_say_until_when(app, browser, make_user):
    user = make_user()
    subject = lock_subject(app, user)
    told = _five_failures(app, browser, user.username, subject)
    until = locked_until(app, subject)
    _check_sequence(told, until)
    failures = audit_events(Tag.LOGIN_FAILURE.value, user.id)
    assert [e.data for e in failures] == [{"reason": "bad_credentials", "failures": n}
                                         for n in range(1, 6)]
    [locked] = audit_events(Tag.ACCOUNT_LOCKED.value, user.id)
    assert locked.data == {"until": until}


def test_the_right_password_is_refused_while_locked(app, browser, make_user):
    user = make_user()
    subject = lock_subject(app, user)
    _five_failures(app, browser, user.username, subject)
    response = _attempt(browser, user.username, user.password)
    assert response.status_code == 400
    assert error_of(response) == locked_message(locked_until(app, subject))
    assert "idp_sso" not in response.headers.get("Set-Cookie", "")
    assert len(audit_events(Tag.LOGIN_FAILURE.value, user.id)) == 5
    assert audit_events(Tag.LOGIN_SUCCESS.value, user.id) == []


def test_the_lock_also_covers_logins_by_mobile_number(app, browser, make_user):
    user = make_user()
    _five_failures(app, browser, user.username, lock_subject(app, user))
    response = _attempt(browser, user.phone, user.password)
    assert response.status_code == 400 and LOCKED_RE.match(error_of(response) or "")


def test_after_the_lock_expires_the_right_password_works(app, browser, make_user):
    user = make_user()
    subject = lock_subject(app, user)
    _five_failures(app, browser, user.username, subject)
    expire_lock(app, subject)
    response = _attempt(browser, user.username, user.password)
    assert response.status_code == 303
    assert len(audit_events(Tag.LOGIN_SUCCESS.value, user.id)) == 1


def test_a_successful_login_clears_earlier_failures(app, browser, make_user):
    user = make_user()
    subject = lock_subject(app, user)
    _attempt(browser, user.username, WRONG)
    assert _attempt(browser, user.username, user.password).status_code == 303
    assert _guard(subject).failures == 0
    for _ in range(4):
        assert error_of(_attempt(browser, user.username, WRONG)) == WRONG_LOGIN
        clear_wait(app, subject)
    assert _guard(subject).failures == 4 and _guard(subject).locked_until is None


def test_an_unknown_username_gets_the_same_answers_and_is_locked_too(app, browser, make_user):
    user = make_user()
    known = _five_failures(app, browser, user.username, lock_subject(app, user))
    ghost = "ghost-citizen"
    ghost_subject = lock_subject(app, None, ghost)
    unknown = _five_failures(app, Browser(app.test_client()), ghost, ghost_subject)
    _check_sequence(unknown, locked_until(app, ghost_subject))
    masked = [LOCKED_RE.sub("locked", WAIT_RE.sub("wait", m or "")) for m in known]
    assert masked == [LOCKED_RE.sub("locked", WAIT_RE.sub("wait", m or "")) for m in unknown]
    failures = audit_events(Tag.LOGIN_FAILURE.value)
    assert sum(1 for e in failures if e.user_id is None) == 5
    assert sum(1 for e in failures if e.user_id == user.id) == 5


def test_operator_unlock_lets_the_person_in_at_once(app, browser, make_user, monkeypatch):
    monkeypatch.setenv("IDP_OPERATOR", "ops-zhang")  # the operator the audit names
    user = make_user()
    subject = lock_subject(app, user)
    _five_failures(app, browser, user.username, subject)
    result = app.test_cli_runner().invoke(args=["users", "unlock", "--username",
                                                user.username])
    assert result.exit_code == 0, result.output
    assert result.stdout == f"{user.username} is unlocked\n"
    assert _guard(subject) is None  # the lock and the count are gone
    assert _attempt(browser, user.username, user.password).status_code == 303
    [unlocked] = audit_events(Tag.ACCOUNT_UNLOCKED.value, user.id)
    assert unlocked.actor == "operator:ops-zhang"


def test_operator_unlock_of_an_unknown_account_fails_with_exit_2(app):
    result = app.test_cli_runner().invoke(args=["users", "unlock", "--username", "nobody-here"])
    assert result.exit_code == 2
    assert result.stderr == ("Error: there is no account with the username or mobile number "
                             "“nobody-here”\n")


def _login_over_http(base_url, identifier, password, start):
    with requests.Session() as http:
        page = http.get(base_url + "/login", timeout=30)
        token = csrf_from(page.text)
        start.wait()
        response = http.post(base_url + "/login", timeout=60, allow_redirects=False, data={
            "csrf_token": token, "identifier": identifier, "password": password})
        return response.status_code, response.text


def _burst(base_url, identifier, attempts=50):
    """`attempts` wrong passwords at once, each from its own browser session over HTTP."""
    start = threading.Barrier(attempts)
    with ThreadPoolExecutor(max_workers=attempts) as pool:
        return list(pool.map(lambda _: _login_over_http(base_url, identifier, WRONG, start),
                             range(attempts)))


def test_fifty_parallel_wrong_passwords_record_exactly_five_failures(app, live_provider,
                                                                     make_user):
    """Acceptance: the threshold holds under a burst of parallel attempts over real HTTP."""
    user = make_user()
    subject = lock_subject(app, user)
    results = _burst(live_provider.url, user.username)
    statuses = sorted(status for status, _ in results)
    assert statuses == [400] * 50, f"answers to the burst: {statuses}"
    assert len(audit_events(Tag.LOGIN_FAILURE.value, user.id)) == 5
    status, page = _login_over_http(live_provider.url, user.username, user.password,
                                    threading.Barrier(1))
    assert status == 400
    until = locked_until(app, subject)
    assert locked_message(until) in page
    expire_lock(app, subject)
    status, _ = _login_over_http(live_provider.url, user.username, user.password,
                                 threading.Barrier(1))
    assert status == 303


def test_parallel_wrong_passwords_record_the_lock_once(app, live_provider, make_user):
    """One lock, one accounts:user:locked event, as when the attempts come one by one."""
    user = make_user()
    _burst(live_provider.url, user.username)
    locked = audit_events(Tag.ACCOUNT_LOCKED.value, user.id)
    assert len(locked) == 1, [e.data for e in locked]
    assert locked[0].data == {"until": locked_until(app, lock_subject(app, user))}


def test_right_passwords_refused_by_a_store_outage_do_not_lock_the_account(
        app, browser, make_user, monkeypatch):
    """The right password, then the session cannot be made (Redis down: 503). Each such
    attempt must give its failure slot back, or retrying through an outage would lock."""
    from idp.store import StoreUnavailable

    user = make_user()
    subject = lock_subject(app, user)
    store = app.extensions["idp.store"]

    def down(*args, **kwargs):
        raise StoreUnavailable("test: the store is down")

    monkeypatch.setattr(store, "set", down)
    for _ in range(7):  # more than the threshold (5)
        page = browser.client.get("/login")
        answer = browser.client.post("/login", data={
            "csrf_token": csrf_from(text_of(page)), "identifier": user.username,
            "password": user.password})
        assert answer.status_code == 503
    guard = _guard(subject)
    assert guard is not None and guard.slots == 0 and guard.locked_until is None
    monkeypatch.undo()
    assert _attempt(browser, user.username, user.password).status_code == 303
