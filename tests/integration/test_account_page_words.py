"""The account page in words a person reads: trust levels as labels with the way to raise
them, devices instead of user-agent strings, scopes by what they release, and no username the
platform made up."""

from __future__ import annotations

import re

import pytest

from idp.accounts.models import User
from idp.extensions import db
from tests.conftest import Browser, csrf_from
from tests.integration.citizens import text_of

CHROME_ON_WINDOWS = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like "
                     "Gecko) Chrome/120.0.0.0 Safari/537.36")
SAFARI_ON_IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 "
                    "(KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1")


def _signed_in(app, user, user_agent: str | None = None, lang: str | None = None) -> Browser:
    browser = Browser(app.test_client())
    if user_agent:
        browser.client.environ_base["HTTP_USER_AGENT"] = user_agent
    if lang:
        browser.client.set_cookie("idp_lang", lang)
    assert browser.login(user).status_code == 303
    return browser


def _section(page: str, name: str) -> str:
    match = re.search(rf'<section id="{name}">(.*?)</section>', page, re.S)
    assert match, f"no {name} section"
    return match.group(1)


def _level_section(app, user, lang: str | None = None) -> str:
    return _section(text_of(_signed_in(app, user, lang=lang).client.get("/account")), "level")


def _advice(section: str) -> str | None:
    match = re.search(r'<p id="raise-level">([^<]*)</p>', section)
    return match.group(1) if match else None


@pytest.mark.parametrize(("level", "label"), [
    (2, "<strong id=\"trust-level\">2</strong>级 · 未实名核验"),
    (3, "<strong id=\"trust-level\">3</strong>级 · 已实名核验（在线）"),
    (4, "<strong id=\"trust-level\">4</strong>级 · 已实名核验（人脸）"),
    (5, "<strong id=\"trust-level\">5</strong>级 · 已实名核验（窗口或证书）"),
])
def test_the_trust_level_is_shown_as_a_label(app, make_user, level, label):
    section = _level_section(app, make_user(trust_level=level))
    assert f'<p class="trust-level">{label}</p>' in section


@pytest.mark.parametrize(("level", "label"), [
    (2, "Level <strong id=\"trust-level\">2</strong> · Not verified"),
    (3, "Level <strong id=\"trust-level\">3</strong> · Verified (online)"),
    (4, "Level <strong id=\"trust-level\">4</strong> · Verified (face match)"),
    (5, "Level <strong id=\"trust-level\">5</strong> · Verified (counter or certificate)"),
])
def test_the_trust_level_label_in_english(app, make_user, level, label):
    section = _level_section(app, make_user(trust_level=level), lang="en")
    assert f'<p class="trust-level">{label}</p>' in section


@pytest.mark.parametrize("level", [2, 3])
def test_levels_2_and_3_link_to_online_verification_when_it_is_set_up(app, make_user,
                                                                      monkeypatch, level):
    monkeypatch.setattr(app.extensions["idp.identity"], "platform", object())
    section = _level_section(app, make_user(trust_level=level))
    assert _advice(section) == ("您可以立即在线提升等级，也可以携带身份证到任一服务大厅窗口办理。"
                                "部分服务需要3级及以上。")
    assert ('<a class="button primary" href="/account/identity" id="verify-identity">实名核验</a>'
            in section)


@pytest.mark.parametrize("level", [2, 3])
def test_without_online_verification_levels_2_and_3_are_sent_to_a_counter(app, make_user, level):
    assert app.extensions["idp.identity"].platform is None  # the tests' default
    section = _level_section(app, make_user(trust_level=level))
    assert _advice(section) == ("如需提升等级，请携带身份证到服务大厅实名核验窗口办理。"
                                "部分服务需要3级及以上。")
    assert 'id="verify-identity"' not in section
    assert '<a href="/account/identity" id="identity-details">等级说明与核验记录</a>' in section


def test_level_4_is_told_that_level_5_needs_a_counter(app, make_user, monkeypatch):
    monkeypatch.setattr(app.extensions["idp.identity"], "platform", object())
    section = _level_section(app, make_user(trust_level=4))
    assert _advice(section) == "5级需要携带身份证到服务大厅实名核验窗口当面核验。"
    assert 'id="verify-identity"' not in section


def test_level_5_gets_no_advice(app, make_user):
    section = _level_section(app, make_user(trust_level=5))
    assert _advice(section) is None and 'id="verify-identity"' not in section


def test_the_advice_in_english(app, make_user):
    section = _level_section(app, make_user(trust_level=4), lang="en")
    assert _advice(section) == ("Level 5 needs an in-person check at a service-hall counter "
                                "with your ID card.")


def test_a_made_up_username_is_not_shown(app, make_user):
    user = make_user()
    db.session.get(User, user.id).username_chosen = False
    db.session.commit()
    profile = _section(text_of(_signed_in(app, user).client.get("/account")), "profile")
    assert "<dt>用户名</dt>" not in profile and user.username not in profile


def test_a_chosen_username_is_shown(app, make_user):
    user = make_user()
    profile = _section(text_of(_signed_in(app, user).client.get("/account")), "profile")
    assert f"<dt>用户名</dt><dd>{user.username}</dd>" in profile


def test_sessions_and_sign_ins_name_the_device_not_the_user_agent(app, make_user):
    user = make_user()
    _signed_in(app, user, SAFARI_ON_IPHONE)
    browser = _signed_in(app, user, CHROME_ON_WINDOWS)
    page = text_of(browser.client.get("/account"))
    devices = re.findall(r'<span class="device">([^<]*)</span>', _section(page, "sessions"))
    assert sorted(devices) == ["Chrome · Windows", "Safari · iOS"]
    events = re.findall(r"<tr><td>[^<]*</td><td>([^<]*)</td><td>([^<]*)</td><td>[^<]*</td></tr>",
                        _section(page, "events"))
    assert events == [("登录成功", "Chrome · Windows"), ("登录成功", "Safari · iOS")]
    assert "Mozilla" not in page and "AppleWebKit" not in page


def test_an_unrecognised_browser_is_an_unknown_device(app, make_user):
    page = text_of(_signed_in(app, make_user(), "TestClient/1.0").client.get("/account"))
    assert re.findall(r'<span class="device">([^<]*)</span>', _section(page, "sessions")) == [
        "未知设备"]


def test_authorised_scopes_are_listed_in_words_in_english(app, make_user, make_client):
    client = make_client(name="Housing Fund", first_party=False)
    browser = _signed_in(app, make_user(), lang="en")
    page = browser.authorize(client, scope="openid phone")
    action = page.request.full_path
    allowed = browser.client.post(action, data={"csrf_token": csrf_from(text_of(page)),
                                                "decision": "allow"})
    assert allowed.status_code == 302
    apps = _section(text_of(browser.client.get("/account")), "apps")
    [row] = re.findall(r'<li class="app-row">(.*?) <span', apps, re.S)
    assert row == "Housing Fund — Account identifier and trust level, Mobile number"
