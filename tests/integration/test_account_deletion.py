"""Account deletion (注销账号, docs/account-lifecycle.md; PIPL Art. 47): the request from
/account after a fresh sign-in with a second factor where one is enrolled; every session and
grant ending at once; the cooling-off period in which signing in offers to cancel; then
`idp accounts purge-deleted` erasing every personal field, releasing the ID number and the
mobile number, leaving the audit chain intact, safe to run twice.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from sqlalchemy import MetaData, select

from idp.accounts.lifecycle import ERASED_USERNAME_PREFIX
from idp.accounts.models import AgreementAcceptance, LoginGuardRow, RecoveryCode, User
from idp.accounts.signals import ACCOUNT_PURGED, EXTENSION, SESSIONS_REVOKED, AccountSignal
from idp.audit.actors import Actor
from idp.audit.services import verify_chain
from idp.audit.tags import Tag
from idp.extensions import db, get_store
from idp.identity.models import IdentityCase, Verification
from idp.oauth.models import Consent, Grant, aware
from tests.conftest import Browser, csrf_from, last_code, remember_secret, sms_messages
from tests.integration.citizens import (
    WRONG_LOGIN,
    audit_events,
    captcha_of,
    csrf,
    enrol_totp,
    error_of,
    next_totp,
    second_factor,
    send_mfa_sms,
    sso_cookie,
    text_of,
)
from tests.integration.helpers import offline_tokens_for, refresh

DAY = 86400
DELETE = "/account/delete"
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_SERIAL = itertools.count(101)


def id_number() -> str:
    """A valid GB 11643 citizen ID number, different on every call (never to be logged)."""
    body = f"44180219850612{next(_SERIAL) % 1000:03d}"
    total = sum(int(d) * w for d, w in zip(body, WEIGHTS, strict=True))
    number = body + "10X98765432"[total % 11]
    remember_secret(number)
    return number


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def signals(app) -> Iterator[list[tuple[AccountSignal, str | None]]]:
    """Every account signal announced, with the account's phone as it stood at that moment."""
    heard: list[tuple[AccountSignal, str | None]] = []

    def listen(signal: AccountSignal) -> None:
        row = db.session.get(User, signal.user_id)
        heard.append((signal, row.phone if row is not None else None))

    listeners = app.extensions[EXTENSION].listeners
    listeners.append(listen)
    yield heard
    listeners.remove(listen)


def _advance(app, seconds: float) -> None:
    app.extensions["idp.clock"].advance(seconds)


def _signed_in(app, user) -> Browser:
    browser = Browser(app.test_client())
    assert browser.login(user).status_code == 303
    return browser


def _step_up_with_sms(app, browser: Browser, sms_platform, user) -> None:
    """The /login/mfa step-up the deletion page asks of a password session with a phone."""
    assert send_mfa_sms(browser, DELETE).status_code == 200
    done = second_factor(browser, "sms", last_code(sms_platform, user.phone, "mfa"), DELETE)
    assert (done.status_code, done.headers["Location"]) == (303, DELETE), error_of(done)


def _ready(app, sms_platform, user) -> Browser:
    """Signed in with a password and stepped up with SMS: the deletion page opens."""
    browser = _signed_in(app, user)
    _step_up_with_sms(app, browser, sms_platform, user)
    assert browser.client.get(DELETE).status_code == 200
    return browser


def _confirm(browser: Browser, understood: bool = True) -> Any:
    page = browser.client.get(DELETE)
    data = {"csrf_token": csrf_from(text_of(page))}
    if understood:
        data["understood"] = "y"
    return browser.client.post(DELETE, data=data)


def _request(app, sms_platform, user) -> Any:
    response = _confirm(_ready(app, sms_platform, user))
    assert response.status_code == 200, error_of(response)
    return response


def _account(user_id: str) -> User:
    db.session.expire_all()
    found = db.session.get(User, user_id)
    assert found is not None
    return found


def _login_asks_to_cancel(app, user) -> Browser:
    browser = Browser(app.test_client())
    response = browser.login(user, next_url="/account")
    assert (response.status_code, response.headers["Location"]) == (303, "/login/deletion")
    assert sso_cookie(browser) is None
    return browser


def _decide(browser: Browser, decision: str) -> Any:
    page = browser.client.get("/login/deletion")
    assert page.status_code == 200
    return browser.client.post("/login/deletion", data={
        "csrf_token": csrf_from(text_of(page)), "decision": decision})


def _purge(runner) -> Any:
    result = runner.invoke(args=["accounts", "purge-deleted"])
    assert result.exit_code == 0, result.output
    return result


# --- asking ---
def test_the_account_page_links_to_account_deletion(app, make_user):
    page = text_of(_signed_in(app, make_user()).client.get("/account"))
    section = re.search(r'<section id="delete">(.*?)</section>', page, re.S).group(1)
    assert '<h2>注销账号</h2>' in section
    assert f'<a href="{DELETE}" id="delete-account">注销账号</a>' in section


def test_deletion_needs_a_recent_sign_in(app, make_user):
    user = make_user()
    browser = _signed_in(app, user)
    _advance(app, app.extensions["idp.settings"].reauth_max_age + 1)
    response = browser.client.get(DELETE)
    assert response.status_code == 303
    location = urlparse(response.headers["Location"])
    assert location.path == "/login"
    assert parse_qs(location.query) == {"next": [DELETE], "reauth": ["1"],
                                        "login_hint": [user.username]}


def test_a_password_session_of_an_account_with_a_verified_phone_steps_up_first(
        app, make_user, sms_platform):
    user = make_user()
    browser = _signed_in(app, user)
    response = browser.client.get(DELETE)
    assert (response.status_code, response.headers["Location"]) == \
        (303, "/login/mfa?next=/account/delete")
    _step_up_with_sms(app, browser, sms_platform, user)
    page = browser.client.get(DELETE)
    assert page.status_code == 200
    assert "<h1>注销账号</h1>" in text_of(page)


def test_an_account_with_an_authenticator_app_signs_in_again_with_it(app, make_user):
    user = make_user()
    browser = _signed_in(app, user)
    enrolled = enrol_totp(browser)
    refused = browser.client.get(DELETE)  # this session never used the app
    assert refused.status_code == 303
    assert urlparse(refused.headers["Location"]).path == "/login"
    first = browser.login(user, next_url=DELETE)
    assert first.headers["Location"] == "/login/mfa"
    done = second_factor(browser, "totp", next_totp(enrolled.secret))
    assert (done.status_code, done.headers["Location"]) == (303, DELETE), error_of(done)
    assert browser.client.get(DELETE).status_code == 200


def test_an_account_with_no_second_factor_needs_only_a_recent_password(app, make_user):
    user = make_user(phone_verified=False)
    page = _signed_in(app, user).client.get(DELETE)
    assert page.status_code == 200


def test_the_page_says_what_is_deleted_what_is_kept_and_when(app, make_user, sms_platform):
    number = id_number()
    user = make_user(trust_level=3, id_number=number)
    browser = _ready(app, sms_platform, user)
    page = text_of(browser.client.get(DELETE))
    deleted = re.search(r'<section id="deleted">(.*?)</section>', page, re.S).group(1)
    assert "您的基本资料：姓名、用户名和手机号码。" in deleted
    assert f"您的身份证号码（{number[:4]}**********{number[-4:]}）以及实名核验记录中的个人信息。" \
        in deleted
    assert number not in page
    kept = re.search(r'<section id="kept">(.*?)</section>', page, re.S).group(1)
    assert "依《网络安全法》第二十一条保留不少于180天" in kept
    assert "<h2>15天冷静期</h2>" in page
    assert 'name="understood"' in page and 'name="csrf_token"' in page


def test_the_page_speaks_english_on_request(app, make_user, sms_platform):
    user = make_user()
    browser = _ready(app, sms_platform, user)
    browser.client.set_cookie("idp_lang", "en")
    page = text_of(browser.client.get(DELETE))
    assert "<h1>Delete my account</h1>" in page
    assert "<h2>A cooling-off period of 15 days</h2>" in page
    assert "for at least 180 days, because the Cybersecurity Law requires it" in page


def test_confirming_without_ticking_the_box_changes_nothing(app, make_user, sms_platform):
    user = make_user()
    browser = _ready(app, sms_platform, user)
    response = _confirm(browser, understood=False)
    assert response.status_code == 400
    assert error_of(response) == "请勾选复选框，确认您已了解注销账号的含义。"
    assert _account(user.id).deletion_requested_at is None
    assert browser.client.get("/account").status_code == 200


def test_a_request_without_the_csrf_token_is_refused(app, make_user, sms_platform):
    user = make_user()
    browser = _ready(app, sms_platform, user)
    response = browser.client.post(DELETE, data={"understood": "y"})
    assert response.status_code == 400
    assert _account(user.id).deletion_requested_at is None


# --- the request ---
def test_the_request_ends_every_session_and_grant_at_once(app, make_user, make_client,
                                                          sms_platform, signals):
    user = make_user()
    client = make_client(scope="openid profile offline_access")
    elsewhere = Browser(app.test_client())
    offline = offline_tokens_for(app, elsewhere, user, client)  # outlives its session
    browser = _ready(app, sms_platform, user)
    clock = app.extensions["idp.clock"]
    response = _confirm(browser)
    assert response.status_code == 200
    page = text_of(response)
    assert "<h1>已申请注销</h1>" in page
    account = _account(user.id)
    requested = account.deletion_requested_at
    assert requested is not None
    assert abs(aware(requested).timestamp() - clock.now()) < 5
    assert account.sessions_valid_after == clock.seconds()
    # Both browsers are signed out, and the offline refresh token is dead.
    assert sso_cookie(browser) is None
    assert browser.client.get("/account").status_code == 303
    assert elsewhere.client.get("/account").status_code == 303
    assert refresh(app, client, offline["refresh_token"]).json["error"] == "invalid_grant"
    assert app.test_client().get("/userinfo", headers={
        "Authorization": "Bearer " + offline["access_token"]}).status_code == 401
    assert db.session.execute(select(Grant).where(
        Grant.user_id == user.id, Grant.revoked_at.is_(None))).first() is None
    # Told: the person by SMS with the date, business systems by a signal, the audit log.
    notices = [m for m in sms_messages(sms_platform, user.phone)
               if m["template"] == "deletion_requested"]
    assert len(notices) == 1 and re.fullmatch(r"\d{4}年\d{1,2}月\d{1,2}日",
                                               notices[0]["params"]["date"])
    assert [s.kind for s, _ in signals] == [SESSIONS_REVOKED]
    [event] = audit_events(Tag.DELETION_REQUESTED.value, user.id)
    assert event.actor == f"citizen:{user.id}"
    assert set(event.data) == {"erase_after"}


def test_the_confirmation_page_names_the_date_in_both_languages(app, make_user,
                                                                sms_platform):
    user = make_user()
    browser = _ready(app, sms_platform, user)
    browser.client.set_cookie("idp_lang", "en")
    page = text_of(_confirm(browser))
    assert re.search(r"Your account will be erased on .+\. You were signed out everywhere\.",
                     page)
    assert "choose “Cancel the deletion”" in page


# --- the cooling-off period ---
def test_signing_in_during_the_cooling_off_period_asks_before_any_session(
        app, make_user, sms_platform):
    user = make_user()
    _request(app, sms_platform, user)
    _advance(app, 3 * DAY)
    browser = _login_asks_to_cancel(app, user)
    page = browser.client.get("/login/deletion")
    question = re.search(r'<p id="deletion-question">(.*?)</p>', text_of(page)).group(1)
    assert re.fullmatch(r"您的账号将于 .+ 注销。取消注销并登录？", question)
    assert 'value="cancel" id="cancel-deletion">取消注销</button>' in text_of(page)
    assert 'value="keep" id="keep-deletion">保持注销申请</button>' in text_of(page)
    assert browser.client.get("/account").status_code == 303  # no session meanwhile


def test_keeping_the_request_signs_nobody_in(app, make_user, sms_platform):
    user = make_user()
    _request(app, sms_platform, user)
    _advance(app, DAY)
    browser = _login_asks_to_cancel(app, user)
    kept = _decide(browser, "keep")
    assert kept.status_code == 200
    assert "您的注销申请保持不变" in text_of(kept)
    assert sso_cookie(browser) is None
    assert _account(user.id).deletion_requested_at is not None
    assert browser.client.get("/login/deletion").headers["Location"] == "/login"


def test_cancelling_restores_the_account_and_signs_in(app, make_user, sms_platform, runner):
    user = make_user()
    _request(app, sms_platform, user)
    _advance(app, 14 * DAY)
    browser = _login_asks_to_cancel(app, user)
    done = _decide(browser, "cancel")
    assert (done.status_code, done.headers["Location"]) == (303, "/account")
    assert sso_cookie(browser) is not None
    assert browser.client.get("/account").status_code == 200
    assert _account(user.id).deletion_requested_at is None
    assert [m["template"] for m in sms_messages(sms_platform, user.phone)][-1] == \
        "deletion_cancelled"
    assert len(audit_events(Tag.DELETION_CANCELLED.value, user.id)) == 1
    _advance(app, 30 * DAY)
    assert "erased 0 deleted account(s)" in _purge(runner).output
    assert _account(user.id).phone == user.phone


def test_signing_in_with_an_sms_code_during_the_cooling_off_period_also_asks(
        app, make_user, sms_platform):
    user = make_user()
    _request(app, sms_platform, user)
    _advance(app, DAY)
    get_store(app).delete("sms-gap:" + user.phone)  # as if a minute passed since the step-up
    browser = Browser(app.test_client())
    page = browser.client.get("/login/sms")
    token = csrf(browser)
    sent = browser.client.post("/login/sms", data={"p-csrf_token": token, "step": "send",
                                                   "p-phone": user.phone, "p-next": "",
                                                   **captcha_of(browser, page)})
    assert sent.status_code == 200, error_of(sent)
    response = browser.client.post("/login/sms", data={
        "c-csrf_token": token, "step": "code", "c-next": "",
        "c-code": last_code(sms_platform, user.phone, "login")})
    assert (response.status_code, response.headers["Location"]) == (303, "/login/deletion")
    assert sso_cookie(browser) is None


def test_after_the_period_the_account_answers_like_a_wrong_password(app, make_user,
                                                                    sms_platform):
    user = make_user()
    _request(app, sms_platform, user)
    _advance(app, 15 * DAY + 1)
    response = Browser(app.test_client()).login(user)
    assert response.status_code == 400
    assert error_of(response) == WRONG_LOGIN
    unknown = Browser(app.test_client()).login(user, password="Wrong-Horse-7")
    assert error_of(unknown) == WRONG_LOGIN


def test_a_pending_cancel_question_left_open_past_the_period_signs_nobody_in(
        app, make_user, sms_platform):
    user = make_user()
    _request(app, sms_platform, user)
    _advance(app, 15 * DAY - 60)
    browser = _login_asks_to_cancel(app, user)
    page = browser.client.get("/login/deletion")
    _advance(app, 120)  # the period ends while the question is on screen
    done = browser.client.post("/login/deletion", data={
        "csrf_token": csrf_from(text_of(page)), "decision": "cancel"})
    assert (done.status_code, done.headers["Location"]) == (303, "/login")
    assert sso_cookie(browser) is None
    assert _account(user.id).deletion_requested_at is not None


# --- the purge ---
def _verified_in_person(app, user_id: str, number: str, name: str) -> Any:
    identity = app.extensions["idp.identity"]
    outcome = identity.verify_in_person(
        db.session.get(User, user_id), document_type="id-number", number=number, name=name,
        valid_until=date(2035, 6, 30), photo_compared=True, actor=Actor.staff("setup", "QY"),
        staff_id="setup", hall_code="QY")
    db.session.commit()
    return outcome


def _full_account(app, make_user, make_client, browser) -> dict[str, Any]:
    """An account holding everything: ID number verified at a counter, an authenticator app
    and recovery codes, a consent and grants, accepted agreements, a lockout row, and a case it
    opened as claimant of another account's number."""
    name = "注销测试人"
    number, disputed = id_number(), id_number()
    user = make_user(name=name)
    other = make_user()
    client = make_client(scope="openid profile phone offline_access")
    offline_tokens_for(app, browser, user, client, scope="openid profile phone offline_access")
    assert _verified_in_person(app, other.id, disputed, "别人").ok
    assert _verified_in_person(app, user.id, disputed, name).code == "case_opened"
    assert _verified_in_person(app, user.id, number, name).ok
    account = db.session.get(User, user.id)
    mfa = app.extensions["idp.mfa"]
    account.totp_secret_sealed = mfa.box.seal("JBSWY3DPEHPK3PXP")
    codes = mfa.issue_recovery_codes(account, None)
    remember_secret(*codes)
    accounts = app.extensions["idp.accounts"]
    accounts.guard.enter("acct:" + user.id, None)
    accounts.guard.failed("acct:" + user.id, None)
    db.session.commit()
    account = db.session.get(User, user.id)
    return {"user": user, "name": name, "number": number, "client": client,
            "fingerprint": account.id_number_hash,
            "masked": f"{number[:4]}**********{number[-4:]}"}


def _cells(table_names_to_skip: set[str]) -> Iterator[tuple[str, str]]:
    """Every text cell of every table (but those skipped), as (table, value)."""
    meta = MetaData()
    meta.reflect(bind=db.engine)
    for table in meta.sorted_tables:
        if table.name in table_names_to_skip:
            continue
        for row in db.session.execute(select(table)).all():
            for value in row:
                if value is not None:
                    yield table.name, str(value)


def test_the_purge_erases_every_personal_field(app, make_user, make_client, browser, runner,
                                               sms_platform, signals):
    held = _full_account(app, make_user, make_client, browser)
    user = held["user"]
    lifecycle = app.extensions["idp.lifecycle"]
    lifecycle.request_deletion(db.session.get(User, user.id), None)
    # A case this account opened (it claimed a number another account holds).
    assert db.session.execute(select(IdentityCase).where(
        IdentityCase.claimant_id == user.id)).first() is not None
    audit_before = [(e.seq, e.hash) for e in audit_events(user_id=user.id)]
    _advance(app, 15 * DAY + 1)
    result = _purge(runner)
    assert result.output == ("purge-deleted: 1 of 1 erased so far\n"
                             "erased 1 deleted account(s)\n")
    account = _account(user.id)
    row = {c: getattr(account, c) for c in (
        "name", "phone", "phone_verified", "password_hash", "password_changed_at",
        "totp_secret_sealed", "totp_last_step", "id_number_sealed", "id_number_hash",
        "id_document_type", "username_chosen", "disabled", "trust_level",
        "deletion_requested_at")}
    assert row["deletion_requested_at"] is not None
    del row["deletion_requested_at"]
    assert row == {"name": None, "phone": None, "phone_verified": False, "password_hash": None,
                   "password_changed_at": None, "totp_secret_sealed": None,
                   "totp_last_step": 0, "id_number_sealed": None, "id_number_hash": None,
                   "id_document_type": None, "username_chosen": False, "disabled": True,
                   "trust_level": 2}
    assert re.fullmatch(re.escape(ERASED_USERNAME_PREFIX) + "[0-9a-f]{32}", account.username)
    assert account.purged_at is not None
    assert account.sessions_valid_after == app.extensions["idp.clock"].seconds()
    for model in (RecoveryCode, AgreementAcceptance, Consent):
        assert db.session.execute(select(model).where(model.user_id == user.id)).all() == []
    assert db.session.get(LoginGuardRow, "acct:" + user.id) is None
    assert db.session.execute(select(IdentityCase).where(
        IdentityCase.claimant_id == user.id)).all() == []
    records = db.session.execute(select(Verification).where(
        Verification.user_id == user.id)).scalars().all()
    assert len(records) >= 2  # the halls' statistics keep counting the work
    for record in records:
        assert (record.document_type, record.fingerprint, record.masked_number,
                record.transaction_id, record.score, record.evidence, record.reason) == \
            (None,) * 7
        assert record.revoked_at is not None
        assert (record.staff_id, record.hall_code) == ("setup", "QY")
    assert db.session.execute(select(Grant).where(
        Grant.user_id == user.id, Grant.revoked_at.is_(None))).all() == []
    # Nothing of the person is left anywhere but the audit log, which is untouched.
    personal = {user.phone, user.username, held["name"], held["number"], held["masked"],
                held["fingerprint"]}
    found = [(table, value) for table, value in _cells({"audit_event", "audit_head",
                                                        "audit_checkpoint"})
             if any(p in value for p in personal)]
    assert found == []
    audit_after = [(e.seq, e.hash) for e in audit_events(user_id=user.id)]
    assert audit_after[:len(audit_before)] == audit_before
    assert [e.tag for e in audit_events(user_id=user.id)][-1] == Tag.ACCOUNT_PURGED.value
    assert audit_events(Tag.ACCOUNT_PURGED.value, user.id)[0].actor == "system:purge-deleted"
    assert verify_chain() is None
    # Told first, while the phone was still there; the notice went to that phone.
    purged = [(s.kind, phone) for s, phone in signals if s.kind == ACCOUNT_PURGED]
    assert purged == [(ACCOUNT_PURGED, user.phone)]
    assert [m["template"] for m in sms_messages(sms_platform, user.phone)][-1] == \
        "account_purged"


def test_the_purge_releases_the_id_number_and_the_mobile_number(app, make_user, runner,
                                                                 sms_platform):
    number = id_number()
    user = make_user(trust_level=3, id_number=number)
    identity = app.extensions["idp.identity"]
    app.extensions["idp.lifecycle"].request_deletion(db.session.get(User, user.id), None)
    _advance(app, 15 * DAY + 1)
    _purge(runner)
    assert identity.find_by_document(number) is None
    again = make_user(phone=user.phone, name="张三")
    assert _verified_in_person(app, again.id, number, "张三").ok
    assert identity.find_by_document(number).id == again.id
    assert _account(again.id).trust_level == 5


def test_the_purge_is_safe_to_run_twice(app, make_user, runner, sms_platform):
    user = make_user()
    lifecycle = app.extensions["idp.lifecycle"]
    lifecycle.request_deletion(db.session.get(User, user.id), None)
    _advance(app, 15 * DAY + 1)
    assert lifecycle.purge(user.id) is True
    assert lifecycle.purge(user.id) is False  # a concurrent run that lost the claim
    assert _purge(runner).output == "erased 0 deleted account(s)\n"
    assert len(audit_events(Tag.ACCOUNT_PURGED.value, user.id)) == 1
    assert [m["template"] for m in sms_messages(sms_platform, user.phone)].count(
        "account_purged") == 1


def test_accounts_still_in_their_cooling_off_period_are_left_alone(app, make_user, runner):
    user = make_user()
    app.extensions["idp.lifecycle"].request_deletion(db.session.get(User, user.id), None)
    _advance(app, 15 * DAY - 60)
    assert _purge(runner).output == "erased 0 deleted account(s)\n"
    assert _account(user.id).phone == user.phone


def test_the_purge_erases_several_accounts_oldest_request_first(app, make_user, runner):
    first, second, staying = make_user(), make_user(), make_user()
    lifecycle = app.extensions["idp.lifecycle"]
    lifecycle.request_deletion(db.session.get(User, first.id), None)
    _advance(app, 60)
    lifecycle.request_deletion(db.session.get(User, second.id), None)
    _advance(app, 15 * DAY)
    assert _purge(runner).output == ("purge-deleted: 1 of 2 erased so far\n"
                                     "purge-deleted: 2 of 2 erased so far\n"
                                     "erased 2 deleted account(s)\n")
    erased = [e.user_id for e in audit_events(Tag.ACCOUNT_PURGED.value)]
    assert erased == [first.id, second.id]
    assert _account(staying.id).purged_at is None


def test_an_erased_account_cannot_be_disabled_or_enabled(app, make_user, runner):
    user = make_user()
    lifecycle = app.extensions["idp.lifecycle"]
    lifecycle.request_deletion(db.session.get(User, user.id), None)
    _advance(app, 15 * DAY + 1)
    _purge(runner)
    from idp.accounts.errors import AccountError

    for change in (lifecycle.disable, lifecycle.enable):
        with pytest.raises(AccountError) as refused:
            change(_account(user.id), actor=Actor.operator("tests"), reason="test")
        assert refused.value.code == "erased"


def test_a_shorter_cooling_off_period_erases_sooner(app, make_user, runner):
    accounts = app.extensions["idp.accounts"]
    assert accounts.deletion_grace == timedelta(days=15)  # IDP_DELETION_COOLING_OFF_DAYS
    accounts.deletion_grace = timedelta(days=3)
    try:
        user = make_user()
        app.extensions["idp.lifecycle"].request_deletion(db.session.get(User, user.id), None)
        _advance(app, 3 * DAY - 60)
        assert _purge(runner).output == "erased 0 deleted account(s)\n"
        _advance(app, 61)
        assert _purge(runner).output.endswith("erased 1 deleted account(s)\n")
    finally:
        accounts.deletion_grace = timedelta(days=15)


def test_the_setting_is_validated():
    from idp.settings import Settings, SettingsError

    assert Settings.from_env({"IDP_DELETION_COOLING_OFF_DAYS": "7"}).deletion_cooling_off_days \
        == 7
    for bad in ("0", "31", "-1"):
        with pytest.raises(SettingsError, match="IDP_DELETION_COOLING_OFF_DAYS must be between "
                                                "1 and 30 days"):
            Settings.from_env({"IDP_DELETION_COOLING_OFF_DAYS": bad})

