"""The consent page (/authorize for a system that is not first-party): the business system's
name first, each requested item with what it is used for, "not you? switch account", and where
to withdraw the authorisation later."""

from __future__ import annotations

import html
import re
from typing import Any
from urllib.parse import parse_qs, urlparse

from idp.audit.tags import Tag
from tests.conftest import Browser, csrf_from
from tests.integration.citizens import audit_events, sid_of, text_of

ITEM_RE = re.compile(r'<li class="consent-item" data-scope="([a-z_]+)">(.*?)</li>', re.S)


def _items(page: str) -> dict[str, str]:
    """scope → the item's text, tags removed."""
    return {scope: re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body)).strip()
            for scope, body in ITEM_RE.findall(page)}


def _consent_page(app: Any, user: Any, client: Any, **params: str) -> tuple[Browser, Any]:
    browser = Browser(app.test_client())
    assert browser.login(user).status_code == 303
    page = browser.authorize(client, **params)
    assert page.status_code == 200 and 'name="decision"' in text_of(page)
    return browser, page


def _switch_form(page: str) -> tuple[str, str]:
    """The switch-account form's (action, next)."""
    form = re.search(r'<form id="switch-account"[^>]*action="([^"]+)">(.*?)</form>', page, re.S)
    assert form, "no switch-account form"
    next_url = re.search(r'name="next" value="([^"]+)"', form.group(2))
    assert next_url
    return html.unescape(form.group(1)), html.unescape(next_url.group(1))


def test_the_page_names_the_system_first_and_says_what_each_item_is_for(app, make_user,
                                                                        make_client):
    client = make_client(name="住房公积金系统", first_party=False)
    _browser, response = _consent_page(app, make_user(name="张三"), client,
                                       scope="openid profile phone")
    page = text_of(response)
    assert re.search(r"<h1[^>]*>(.*?)</h1>", page, re.S).group(1) == (
        '<span class="client-name">住房公积金系统</span>申请使用您的账户')
    assert _items(page) == {
        "openid": "账户标识和可信等级 — 用于识别您的账户及身份核验程度",
        "profile": "姓名 — 用于确认办事人身份 包括：姓名、用户名、资料更新时间",
        "phone": "手机号码 — 用于办理业务时联系您 包括：手机号码、手机号码是否已验证",
    }
    assert "当前登录账户：张三。" in page
    assert ('<p class="muted" id="withdraw-later">您可以随时在“<a href="/account">我的账户</a>”'
            "中撤销授权。</p>") in page


def test_the_page_in_english(app, make_user, make_client):
    client = make_client(name="Housing Fund", first_party=False)
    _browser, response = _consent_page(app, make_user(), client, scope="openid phone",
                                       ui_locales="en")
    page = text_of(response)
    assert '<span class="client-name">Housing Fund</span> asks to use your account' in page
    assert _items(page) == {
        "openid": "Account identifier and trust level — used to recognise your account and "
                  "how well your identity was verified",
        "phone": "Mobile number — used to contact you about your application Includes: "
                 "Mobile number, Whether your mobile number is confirmed",
    }
    assert "Not you?" in page and ">Switch account</button>" in page


def test_switching_account_ends_the_session_and_the_same_request_asks_for_a_login(
        app, make_user, make_client):
    first, second = make_user(name="张三"), make_user(name="李四")
    client = make_client(name="住房公积金系统", first_party=False)
    browser, response = _consent_page(app, first, client, state="keep-me")
    request_path = response.request.full_path
    previous = sid_of(browser)
    action, next_url = _switch_form(text_of(response))
    assert (action, next_url) == ("/switch-account", request_path)

    switched = browser.client.post(action, data={"csrf_token": csrf_from(text_of(response)),
                                                 "next": next_url})
    assert switched.status_code == 303 and switched.headers["Location"] == request_path
    assert app.extensions["idp.sessions"].get(previous) is None  # ended, not just forgotten
    [logout] = audit_events(Tag.LOGOUT.value, first.id)
    assert logout.data["sid"] == previous
    assert browser.client.get_cookie("idp_sso") is None

    # the same authorization request now asks for a login, and comes back to itself after it
    again = browser.client.get(request_path)
    assert again.status_code == 302
    login = urlparse(again.headers["Location"])
    assert login.path == "/login" and parse_qs(login.query)["next"] == [request_path]
    signed_in = browser.login(second, next_url=request_path)
    assert signed_in.status_code == 303 and signed_in.headers["Location"] == request_path
    consent = browser.client.get(request_path)
    assert consent.status_code == 200 and "当前登录账户：李四。" in text_of(consent)


def test_switching_account_needs_the_csrf_token(app, make_user, make_client):
    client = make_client(first_party=False)
    browser, response = _consent_page(app, make_user(), client)
    sid = sid_of(browser)
    _action, next_url = _switch_form(text_of(response))
    refused = browser.client.post("/switch-account", data={"next": next_url})
    assert refused.status_code == 400
    assert app.extensions["idp.sessions"].get(sid) is not None


def test_switching_account_never_goes_to_another_site(app, make_user, make_client):
    client = make_client(first_party=False)
    browser, response = _consent_page(app, make_user(), client)
    switched = browser.client.post("/switch-account", data={
        "csrf_token": csrf_from(text_of(response)), "next": "https://evil.example/authorize"})
    assert switched.status_code == 303 and switched.headers["Location"] == "/"
