"""The account page (/account): profile with a masked number, trust level, the sessions where
the person is signed in (ending one logs its business systems out over the back channel), the
systems they authorised (withdrawing revokes), recent sign-ins, password and phone changes.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

from sqlalchemy import select

from idp.accounts.models import User
from idp.audit.actors import Actor
from idp.audit.services import record_event
from idp.audit.tags import Tag
from idp.extensions import db
from idp.oauth.models import Consent
from tests.conftest import (
    Browser,
    accept_agreements,
    csrf_from,
    exchange,
    last_code,
    redirect_params,
    sms_messages,
    token_request,
)
from tests.integration.citizens import (
    POLICY,
    audit_events,
    captcha_of,
    csrf,
    error_of,
    notice_of,
    problems_of,
    receiver,  # noqa: F401 - fixture
    sid_of,
    text_of,
)

RAISE_AT_A_COUNTER = "如需提升等级，请携带身份证到服务大厅实名核验窗口办理。"
NEW_PASSWORD = "Winter-Snow-2028"


def _browser(app):
    return Browser(app.test_client())


def _signed_in(app, user):
    browser = _browser(app)
    assert browser.login(user).status_code == 303
    return browser


def _section(page, name):
    match = re.search(rf'<section id="{name}">(.*?)</section>', page, re.S)
    assert match, f"no {name} section"
    return match.group(1)


def _tokens(app, browser, client):
    code, verifier = browser.code_for(client)
    return exchange(app, client, code, verifier).json


def _consent(browser, client):
    """Authorise a third-party system on its consent page; returns the authorize response."""
    page = browser.authorize(client, code_challenge="a" * 43, code_challenge_method="S256")
    assert page.status_code == 200 and 'name="decision"' in text_of(page)
    action = re.search(r'<form method="post" action="([^"]+)"', text_of(page)).group(1)
    return browser.client.post(action.replace("&amp;", "&"), data={
        "csrf_token": csrf_from(text_of(page)), "decision": "allow"})


def test_the_account_page_requires_login(browser):
    response = browser.client.get("/account")
    assert response.status_code == 303
    location = urlparse(response.headers["Location"])
    assert location.path == "/login"
    next_url = urlparse(parse_qs(location.query)["next"][0])
    assert (next_url.path, next_url.query) == ("/account", "")


def test_login_from_the_account_redirect_comes_back_to_the_account(app, make_user):
    user = make_user()
    browser = _browser(app)
    next_url = parse_qs(urlparse(browser.client.get("/account").headers["Location"]).query)[
        "next"][0]
    response = browser.login(user, next_url=next_url)
    assert response.status_code == 303
    assert urlparse(response.headers["Location"]).path == "/account"
    assert browser.client.get(response.headers["Location"]).status_code == 200


def test_the_page_shows_username_masked_phone_and_trust_level(app, make_user):
    user = make_user(phone="13812340000", trust_level=3)
    page = text_of(_signed_in(app, user).client.get("/account"))
    profile = _section(page, "profile")
    assert f"<dd>{user.username}</dd>" in profile
    assert "138****0000" in profile and "13812340000" not in page
    level = _section(page, "level")
    assert '<p class="trust-level"><strong id="trust-level">3</strong>级 · 已实名核验（在线）</p>' \
        in level
    assert RAISE_AT_A_COUNTER in level  # no online verification is set up in the tests


def test_level_5_has_no_advice_on_raising_it(app, make_user):
    page = text_of(_signed_in(app, make_user(trust_level=5)).client.get("/account"))
    assert '<strong id="trust-level">5</strong>级 · 已实名核验（窗口或证书）' in page
    assert 'id="raise-level"' not in page and RAISE_AT_A_COUNTER not in page


def test_the_id_number_is_shown_masked(app):
    accounts = app.extensions["idp.accounts"]
    user = accounts.create_user(username="verified1", password="Correct-Horse-9",
                                phone="13812340001")
    app.extensions["idp.identity"].override(user, 3, reason="test", number="11010519491231002X",
                                            actor=Actor.operator("tests"))
    accept_agreements(app, user.id)  # a returning person (the first sign-in would ask)
    db.session.commit()
    browser = _browser(app)
    page = browser.client.get("/login")
    browser.client.post("/login", data={"csrf_token": csrf_from(text_of(page)),
                                        "identifier": "verified1",
                                        "password": "Correct-Horse-9"})
    account = text_of(browser.client.get("/account"))
    assert "11010519491231002X" not in account
    assert "<dd>1101**********002X</dd>" in _section(account, "profile")


def test_two_signed_in_browsers_are_two_session_rows(app, make_user):
    user = make_user()
    first, second = _signed_in(app, user), _signed_in(app, user)
    sessions = _section(text_of(first.client.get("/account")), "sessions")
    rows = re.findall(r'<tr class="session-row" data-sid="([^"]+)">', sessions)
    assert sorted(rows) == sorted([sid_of(first), sid_of(second)])
    assert sessions.count("当前浏览器") == 1


def test_ending_the_other_session_logs_it_out_and_notifies_its_business_systems(
        app, make_user, make_client, receiver):  # noqa: F811
    user = make_user()
    client = make_client(name="不动产登记系统", backchannel_logout_uri=receiver.url + "/bc")
    mine, other = _signed_in(app, user), _signed_in(app, user)
    tokens = _tokens(app, other, client)
    other_sid = sid_of(other)
    page = text_of(mine.client.get("/account"))
    assert "不动产登记系统" in _section(page, "sessions")
    response = mine.client.post(f"/account/sessions/{other_sid}/end",
                                data={"csrf_token": csrf(mine)})
    assert response.status_code == 303
    assert response.headers["Location"] == "/account#sessions"
    assert notice_of(mine.client.get("/account")) == "该会话已结束。"
    assert redirect_params(other.authorize(client, prompt="none"))["error"] == "login_required"
    assert "code" in redirect_params(mine.authorize(client, prompt="none"))
    [logout_token] = receiver.received
    claims = app.extensions["idp.provider"].tokens.decode(logout_token)
    assert claims["sid"] == other_sid and claims["aud"] == client.client_id
    refreshed = token_request(app, client, grant_type="refresh_token",
                              refresh_token=tokens["refresh_token"])
    assert refreshed.json["error"] == "invalid_grant"


def test_a_session_of_someone_else_cannot_be_ended(app, make_user, make_client):
    mine, theirs = _signed_in(app, make_user()), _signed_in(app, make_user())
    response = mine.client.post(f"/account/sessions/{sid_of(theirs)}/end",
                                data={"csrf_token": csrf(mine)})
    assert response.status_code == 303
    assert "code" in redirect_params(theirs.authorize(make_client(), prompt="none"))


def test_ending_a_session_needs_the_csrf_token(app, make_user, make_client):
    user = make_user()
    mine, other = _signed_in(app, user), _signed_in(app, user)
    response = mine.client.post(f"/account/sessions/{sid_of(other)}/end")
    assert response.status_code == 400
    assert "code" in redirect_params(other.authorize(make_client(), prompt="none"))


def test_authorised_third_party_systems_are_listed_with_their_scopes(app, make_user,
                                                                     make_client):
    user = make_user()
    client = make_client(name="公积金查询", first_party=False)
    browser = _signed_in(app, user)
    assert "code" in redirect_params(_consent(browser, client))
    apps = _section(text_of(browser.client.get("/account")), "apps")
    [row] = re.findall(r'<li class="app-row">(.*?)</li>', apps, re.S)
    assert row.startswith("公积金查询 — 账户标识和可信等级、姓名 ")


def test_withdrawing_an_authorisation_asks_again_and_revokes_its_tokens(app, make_user,
                                                                        make_client):
    user = make_user()
    client = make_client(name="公积金查询", first_party=False)
    browser = _signed_in(app, user)
    _consent(browser, client)
    tokens = _tokens(app, browser, client)
    response = browser.client.post(f"/account/apps/{client.client_id}/revoke",
                                   data={"csrf_token": csrf(browser)})
    assert response.status_code == 303 and response.headers["Location"] == "/account#apps"
    db.session.expire_all()
    assert db.session.get(Consent, (user.id, client.client_id)) is None
    page = text_of(browser.client.get("/account"))
    assert notice_of(browser.client.get("/account")) is None  # the note is shown once
    assert '<li class="app-row">' not in _section(page, "apps")
    again = browser.authorize(client)
    assert again.status_code == 200 and 'name="decision"' in text_of(again)
    refreshed = token_request(app, client, grant_type="refresh_token",
                              refresh_token=tokens["refresh_token"])
    assert refreshed.status_code == 400 and refreshed.json["error"] == "invalid_grant"
    [revoked] = audit_events(Tag.CONSENT_REVOKED.value, user.id)
    assert revoked.client_id == client.client_id


def test_the_last_thirty_sign_in_events_are_shown(app, make_user):
    user = make_user()
    for n in range(34):  # earlier sign-ins, as the audit log records them
        record_event(Tag.LOGIN_SUCCESS, actor=Actor.citizen(user.id), user_id=user.id,
                     ip="198.51.100.9", data={"sid": f"sid-{n}", "amr": ["pwd"]})
    db.session.commit()
    browser = _signed_in(app, user)  # the 35th
    events = _section(text_of(browser.client.get("/account")), "events")
    rows = re.findall(r"<tr><td>[^<]*</td><td>([^<]*)</td><td>([^<]*)</td><td>([^<]*)</td></tr>",
                      events)
    assert len(rows) == 30
    assert rows[0] == ("登录成功", "—", "127.0.0.1")  # the test client names no known browser
    assert rows[1:] == [("登录成功", "—", "198.51.100.9")] * 29


def test_wrong_password_events_appear_among_the_sign_ins(app, make_user):
    user = make_user()
    _browser(app).login(user, password="Wrong-Horse-1")
    browser = _signed_in(app, user)
    events = _section(text_of(browser.client.get("/account")), "events")
    names = re.findall(r"<tr><td>[^<]*</td><td>([^<]*)</td>", events)
    assert names == ["登录成功", "密码错误"]


def _change_password(browser, current, new, confirm=None):
    browser.client.get("/account/password")
    return browser.client.post("/account/password", data={
        "csrf_token": csrf(browser), "current": current, "password": new,
        "confirm": new if confirm is None else confirm})


def test_changing_the_password_needs_the_current_one(app, make_user):
    user = make_user()
    browser = _signed_in(app, user)
    response = _change_password(browser, "Not-The-Password-1", NEW_PASSWORD)
    assert response.status_code == 400
    assert error_of(response) == "当前密码不正确。"
    assert _browser(app).login(user).status_code == 303


def test_a_new_password_breaking_the_policy_shows_the_reasons(app, make_user):
    user = make_user()
    browser = _signed_in(app, user)
    response = _change_password(browser, user.password, "Password123")
    assert response.status_code == 400
    assert problems_of(response) == [POLICY["common"]]
    response = _change_password(browser, user.password, "short")
    assert problems_of(response) == [POLICY["too_short"], POLICY["too_few_classes"]]
    assert _browser(app).login(user).status_code == 303


def test_changing_the_password_works_and_is_audited(app, make_user):
    user = make_user()
    browser = _signed_in(app, user)
    response = _change_password(browser, user.password, NEW_PASSWORD)
    assert response.status_code == 303
    assert response.headers["Location"] == "/account#security"
    assert notice_of(browser.client.get("/account")) == "密码已修改。"
    assert _browser(app).login(user).status_code == 400
    assert _browser(app).login(user, password=NEW_PASSWORD).status_code == 303
    assert len(audit_events(Tag.PASSWORD_CHANGED.value, user.id)) == 1


def _phone_step(browser, step, **data):
    if step.startswith("send"):  # a code is sent only with the page's picture code answered
        data = {**captcha_of(browser, browser.client.get("/account/phone")), **data}
    return browser.client.post("/account/phone", data={"csrf_token": csrf(browser),
                                                       "step": step, **data})


def test_changing_the_phone_needs_codes_to_the_old_and_the_new_number(app, make_user,
                                                                      sms_platform):
    user = make_user(phone="13812340000")
    new_phone = "13712345678"
    browser = _signed_in(app, user)
    assert _phone_step(browser, "send_old").status_code == 200
    assert _phone_step(browser, "send_new", new_phone=new_phone).status_code == 200
    assert [m["template"] for m in sms_messages(sms_platform, user.phone)] == ["phone_old"]
    assert [m["template"] for m in sms_messages(sms_platform, new_phone)] == ["phone_new"]
    response = _phone_step(browser, "change", new_phone=new_phone,
                           old_code=last_code(sms_platform, user.phone, "phone_old"),
                           new_code=last_code(sms_platform, new_phone, "phone_new"))
    assert response.status_code == 303
    assert response.headers["Location"] == "/account#profile"
    db.session.expire_all()
    stored = db.session.get(User, user.id)
    assert stored.phone == new_phone and stored.phone_verified is True
    [changed] = audit_events(Tag.PHONE_CHANGED.value, user.id)
    assert changed.data == {"via": "old_phone"} and changed.actor == "citizen:" + user.id
    assert "137****5678" in text_of(browser.client.get("/account"))


def test_a_wrong_code_for_either_number_changes_nothing(app, make_user, sms_platform):
    user = make_user(phone="13812340000")
    new_phone = "13712345678"
    browser = _signed_in(app, user)
    _phone_step(browser, "send_old")
    _phone_step(browser, "send_new", new_phone=new_phone)
    old_code = last_code(sms_platform, user.phone, "phone_old")
    new_code = last_code(sms_platform, new_phone, "phone_new")
    response = _phone_step(browser, "change", new_phone=new_phone, old_code=old_code,
                           new_code=f"{(int(new_code) + 1) % 10**6:06d}")
    assert response.status_code == 400
    assert error_of(response) == "验证码错误或已过期。"
    db.session.expire_all()
    assert db.session.get(User, user.id).phone == user.phone
    assert audit_events(Tag.PHONE_CHANGED.value) == []


def test_a_number_registered_to_someone_else_cannot_be_taken(app, make_user, sms_platform):
    user = make_user(phone="13812340000")
    taken = make_user(phone="13712345678").phone
    browser = _signed_in(app, user)
    _phone_step(browser, "send_old")
    _phone_step(browser, "send_new", new_phone=taken)
    response = _phone_step(browser, "change", new_phone=taken,
                           old_code=last_code(sms_platform, user.phone, "phone_old"),
                           new_code=last_code(sms_platform, taken, "phone_new"))
    assert response.status_code == 400
    assert error_of(response) == "该手机号码已注册，请直接登录，或使用“找回密码”。"
    db.session.expire_all()
    assert db.session.execute(select(User.phone).where(User.id == user.id)).scalar_one() == \
        "13812340000"
