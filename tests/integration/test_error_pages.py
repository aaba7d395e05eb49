"""Error pages a browser sees (idp/http.py, templates/error.html): in the person's language with
a matching <html lang>, a plain heading and sentence, the way back home (and to the business
system when it is known), the service hotline, and the error code small at the end. Programs
calling the protocol and JSON endpoints keep their RFC-shaped JSON errors."""

from __future__ import annotations

import re
from typing import Any

import idp.http
from tests.conftest import app_like
from tests.integration.citizens import text_of

HOTLINE = '<a href="tel:12345">12345</a>'  # idp/data/brand/brand.toml
HOME_LINK = '<a class="button primary" id="error-home" href="/">'
HEADING_RE = re.compile(r"<h1>([^<]*)</h1>")
LEAD_RE = re.compile(r'<p role="alert" id="error-lead">([^<]*)</p>')
CODE_RE = re.compile(r'<p class="muted error-code" id="error-code">(.*?)</p>', re.S)


def _lang(page: str) -> str:
    match = re.search(r'<html lang="([^"]+)">', page)
    assert match, page[:200]
    return match.group(1)


def _heading(page: str) -> str:
    match = HEADING_RE.search(page)
    assert match, page[:2000]
    return match.group(1)


def _lead(page: str) -> str:
    match = LEAD_RE.search(page)
    assert match, page[:2000]
    return match.group(1)


def _code_line(page: str) -> str:
    match = CODE_RE.search(page)
    assert match, page[:3000]
    return match.group(1)


def _help(page: str) -> str:
    match = re.search(r'<p class="error-help" id="error-help">(.*?)</p>', page)
    assert match, page[:3000]
    return match.group(1)


# --- 404 ---
def test_a_missing_page_is_a_404_page_in_chinese_by_default(browser):
    response = browser.client.get("/no-such-page")
    page = text_of(response)
    assert response.status_code == 404 and response.mimetype == "text/html"
    assert _lang(page) == "zh-CN"
    assert _heading(page) == "页面不存在"
    assert _lead(page) == "您访问的页面不存在，可能是网址输入有误，或页面已被移除。"
    assert HOME_LINK + "返回首页</a>" in page
    assert _help(page) == f"如需帮助，请拨打服务热线 {HOTLINE}。"
    assert _code_line(page) == "错误代码：<code>not_found</code>"


def test_a_missing_page_is_in_english_when_asked_for(browser):
    response = browser.client.get("/no-such-page?ui_locales=en")
    page = text_of(response)
    assert response.status_code == 404
    assert _lang(page) == "en"
    assert _heading(page) == "Page not found"
    assert _lead(page) == ("The page you asked for does not exist. The address may be "
                           "mistyped, or the page may have moved.")
    assert HOME_LINK + "Back to the home page</a>" in page
    assert _help(page) == f"Need help? Call the service hotline {HOTLINE}."
    assert _code_line(page) == "Error code: <code>not_found</code>"


def test_the_language_cookie_chooses_the_error_pages_language_too(browser):
    browser.client.set_cookie("idp_lang", "en")
    page = text_of(browser.client.get("/no-such-page"))
    assert (_lang(page), _heading(page)) == ("en", "Page not found")


# --- 405 ---
def test_a_wrong_method_is_a_405_page_in_chinese(browser):
    response = browser.client.get("/switch-account")  # a POST-only form action
    page = text_of(response)
    assert response.status_code == 405
    assert set(response.headers["Allow"].split(", ")) == {"POST", "OPTIONS"}
    assert _lang(page) == "zh-CN"
    assert _heading(page) == "无法以此方式访问该页面"
    assert _lead(page) == "该地址不接受此类请求。请从首页重新进入。"
    assert HOME_LINK + "返回首页</a>" in page
    assert HOTLINE in _help(page)


def test_a_wrong_method_is_a_405_page_in_english(browser):
    response = browser.client.get("/switch-account?ui_locales=en")
    page = text_of(response)
    assert response.status_code == 405
    assert _lang(page) == "en"
    assert _heading(page) == "This page cannot be used this way"
    assert _lead(page) == ("This address does not accept that kind of request. Please start "
                           "again from the home page.")
    assert HOME_LINK + "Back to the home page</a>" in page
    assert HOTLINE in _help(page)


# --- 413, raised while reading the body, before anything chose a language ---
def test_a_body_too_large_is_a_413_page_in_the_language_the_query_asks_for(browser):
    body = {"identifier": "x" * (300 * 1024)}
    chinese = browser.client.post("/login", data=body)
    english = browser.client.post("/login?ui_locales=en", data=body)
    assert (chinese.status_code, english.status_code) == (413, 413)
    assert (_lang(text_of(chinese)), _heading(text_of(chinese))) == ("zh-CN", "提交的内容过大")
    assert (_lang(text_of(english)), _heading(text_of(english))) == (
        "en", "What you sent is too large")


# --- 500 ---
def test_an_unexpected_error_is_a_500_page_in_either_language(app):
    with app_like(app) as other:  # a fresh provider, so a test-only route can be added
        @other.get("/test-only/fails")
        def fails() -> str:
            raise RuntimeError("a bug")

        client = other.test_client()
        chinese = client.get("/test-only/fails")
        english = client.get("/test-only/fails?ui_locales=en")
    assert (chinese.status_code, english.status_code) == (500, 500)
    zh_page, en_page = text_of(chinese), text_of(english)
    assert (_lang(zh_page), _heading(zh_page), _lead(zh_page)) == (
        "zh-CN", "系统出现错误", "系统出现问题，请稍后再试。")
    assert (_lang(en_page), _heading(en_page), _lead(en_page)) == (
        "en", "Something went wrong", "Something went wrong on our side. Please try again later.")
    for page in (zh_page, en_page):
        assert HOTLINE in _help(page)
        assert 'id="error-home" href="/"' in page
        assert "a bug" not in page and "RuntimeError" not in page
    assert _code_line(zh_page) == "错误代码：<code>server_error</code>"


def test_a_page_that_cannot_be_rendered_still_answers_in_both_marked_languages(app, monkeypatch):
    def broken(*args: Any, **kwargs: Any) -> str:
        raise RuntimeError("template failure")

    monkeypatch.setattr(idp.http, "render_template", broken)
    with app.test_request_context("/no-such-page"):
        response = idp.http.error_page(500, "server_error", "lead")
    page = text_of(response)
    assert response.status_code == 500 and response.mimetype == "text/html"
    assert page.startswith('<!doctype html><html lang="zh-CN">')
    assert "<h1>系统出现错误</h1>" in page
    assert '<div lang="en"><h2>Something went wrong</h2>' in page


# --- OAuth refusals ---
def test_an_authorization_refusal_shows_what_happened_and_the_error_code_small(
        browser, make_client):
    client = make_client(name="不动产登记系统")
    response = browser.authorize(client, redirect_uri="https://rp.example.gov.cn/elsewhere")
    page = text_of(response)
    assert response.status_code == 400 and "Location" not in response.headers
    assert _lang(page) == "zh-CN"
    assert _heading(page) == "请求被拒绝"
    assert _lead(page) == "业务系统发来的请求无法被本平台接受，因此未将您跳转回该系统。"
    # the way back to the business system: its registered site, never the address asked for
    assert ('<a class="button primary" id="error-back" href="https://rp.example.gov.cn/">'
            "返回不动产登记系统</a>") in page
    assert '<a class="button" id="error-home" href="/">返回首页</a>' in page
    assert page.count('href="https://rp.example.gov.cn/') == 1
    assert HOTLINE in _help(page)
    code_line = _code_line(page)
    assert code_line.startswith("错误代码：<code>invalid_request</code> · "
                                '<span class="error-description">')


def test_a_refusal_naming_an_unknown_client_offers_only_the_way_home(browser):
    response = browser.client.get("/authorize?response_type=code&client_id=nobody"
                                  "&redirect_uri=https://evil.example/cb&scope=openid")
    page = text_of(response)
    assert response.status_code == 400
    assert 'id="error-back"' not in page and "evil.example/\"" not in page
    assert HOME_LINK + "返回首页</a>" in page
    assert _code_line(page).startswith("错误代码：<code>invalid_client</code>")


def test_an_authorization_refusal_in_english(browser, make_client):
    client = make_client(name="Housing Fund")
    response = browser.authorize(client, redirect_uri="https://rp.example.gov.cn/elsewhere",
                                 ui_locales="en")
    page = text_of(response)
    assert (_lang(page), _heading(page)) == ("en", "Request refused")
    assert "Back to Housing Fund</a>" in page
    assert _code_line(page).startswith("Error code: <code>invalid_request</code>")


# --- programs keep their JSON ---
def test_protocol_and_json_endpoints_keep_answering_json_errors(browser):
    token = browser.client.get("/token")
    assert token.status_code == 405 and token.mimetype == "application/json"
    assert token.json == {"error": "invalid_request",
                          "error_description": "This endpoint does not accept this HTTP method."}
    missing = browser.client.get("/admin/api/no-such-thing")
    assert missing.status_code == 404 and missing.json == {
        "error": "not_found", "error_description": "No such endpoint."}
