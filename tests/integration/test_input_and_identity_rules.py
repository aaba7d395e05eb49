"""Input the provider must read one way only, and identities it must not confuse.

- `next` targets stay on this site (language switch, login, registration, second factor).
- Mobile numbers in any spelling are one number: uniqueness, login, SMS limits, the CLI.
- Registration, recovery and SMS login never tell whether a number is registered.
- Client URIs are https (loopback http only outside production), without credentials,
  backslashes or fragments.
- id_token_hint at logout is an ID token of a registered client, nothing else.
- Clients authenticate with exactly one method (RFC 6749 §2.3); malformed Basic is 401.
- Introspection answers only about the caller's tokens, unless registered to introspect for
  the token's client; a code presented by another client is neither consumed nor revoking.
- phone_number_verified is the account's state; HSTS on an https issuer; production refuses
  weak secrets and FLASK_DEBUG; common passwords are refused; X-Forwarded-For is believed only
  from trusted proxies; a failing statement does not carry personal data in its message.
"""

from __future__ import annotations

import base64
import html
import json
import logging
import os
import re
import secrets
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError, IntegrityError

from idp import create_app
from idp.accounts.models import LoginGuardRow, User
from idp.audit.tags import Tag
from idp.extensions import db, get_store
from idp.http import _unexpected
from idp.oauth.models import Client
from idp.oauth.services import ClientRegistrationError, ClientService
from idp.security.password_policy import common_passwords
from idp.settings import Settings, SettingsError
from tests.conftest import (
    CAPTCHA_ID_RE,
    PASSWORD,
    Browser,
    IsolatedClient,
    accept_agreements,
    exchange,
    last_code,
    redirect_params,
    remember_secret,
    sms_messages,
    token_request,
)
from tests.integration.citizens import (
    CODE_SENT,
    IF_REGISTERED,
    POLICY,
    TOO_SOON,
    WRONG_CODE,
    audit_events,
    captcha_of,
    create_account,
    csrf,
    enrol_totp,
    error_of,
    next_totp,
    notice_of,
    problems_of,
    send_register_code,
    sid_of,
    sso_cookie,
    text_of,
)
from tests.integration.helpers import introspect, post_as, refresh, tokens_for
from tests.unit.test_settings import PRODUCTION as VALID_PRODUCTION

PHONE = "13912345678"
OTHER_PHONE = "13900005678"  # shown masked exactly like PHONE: 139****5678
SPELLINGS = ["+86 139-1234-5678", "１３９１２３４５６７８", "+8613912345678", "0086 13912345678"]
IP_LIMITED = "您所在网络请求验证码过于频繁，请稍后再试。"
NETWORK_LOCKED = "您所在网络的失败尝试过多，请稍后再试。"
LOGOUT_INVALID = "退出请求无效。"
NEW_PASSWORD = "Spring-Rain-2026"


def _users_with_phone(phone: str) -> int:
    db.session.expire_all()
    return int(db.session.execute(
        select(func.count()).select_from(User).where(User.phone == phone)).scalar_one())


def _user_count() -> int:
    db.session.expire_all()
    return int(db.session.execute(select(func.count()).select_from(User)).scalar_one())


def _fresh(app: Flask) -> Browser:
    return Browser(app.test_client())


CSRF_VALUE = re.compile(r'(csrf_token"[^>]*value=")[^"]+(")')


def _comparable(response: Any, phone: str) -> str:
    """The page as a person sees it, without the session's CSRF tokens, the typed number and
    the id of the new picture code (random on every page)."""
    page = CSRF_VALUE.sub(r"\1CSRF\2", text_of(response)).replace(phone, "PHONE")
    challenge = CAPTCHA_ID_RE.search(page)
    return page.replace(challenge.group(1), "CHALLENGE") if challenge else page


# ---------------------------------------------------------------------------------------------
# 1. Redirect targets
# ---------------------------------------------------------------------------------------------
OFF_SITE = [
    "//evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "/\t/evil.example",
    "/\r\n/evil.example",
    "/\n/evil.example",
    "/%09/evil.example",
    "/%2F%2Fevil.example",
    "/%5Cevil.example",
    "/..//evil.example",
    "/.//evil.example",
    "https://evil.example/",
    "javascript:alert(1)",
    " //evil.example",
]
OFF_SITE_IDS = ["protocol-relative", "slash-backslash", "double-backslash", "tab", "crlf", "lf",
                "encoded-tab", "encoded-slashes", "encoded-backslash", "dot-dot", "dot",
                "absolute", "javascript", "leading-space"]


def _assert_home(response: Any) -> None:
    assert response.status_code == 303, text_of(response)[:300]
    assert response.headers["Location"] == "/"


def test_the_language_switch_with_an_encoded_tab_before_two_slashes_goes_home(app):
    """This exact request used to answer `Location: //evil.example`."""
    response = app.test_client().get("/lang/en?next=/%09/evil.example")
    _assert_home(response)


@pytest.mark.parametrize("target", OFF_SITE, ids=OFF_SITE_IDS)
def test_the_language_switch_never_leaves_the_site(app, target):
    _assert_home(app.test_client().get("/lang/en", query_string={"next": target}))


def test_the_language_switch_keeps_a_local_next(app):
    response = app.test_client().get("/lang/en", query_string={"next": "/account?x=1"})
    assert response.status_code == 303 and response.headers["Location"] == "/account?x=1"


@pytest.mark.parametrize("target", OFF_SITE, ids=OFF_SITE_IDS)
def test_login_never_redirects_off_site_whatever_the_hidden_next_says(browser, make_user,
                                                                     target):
    _assert_home(browser.login(make_user(), next_url=target))


@pytest.mark.parametrize("target", OFF_SITE, ids=OFF_SITE_IDS)
def test_registration_never_redirects_off_site_whatever_next_says(app, sms_platform, target):
    browser = _fresh(app)
    page = browser.client.get("/register", query_string={"next": target})
    sent = browser.client.post("/register", data={
        "p-csrf_token": csrf(browser), "step": "send", "p-phone": PHONE, "p-next": target,
        **captcha_of(browser, page)})
    assert sent.status_code == 200, error_of(sent)
    remember_secret(NEW_PASSWORD)
    response = browser.client.post("/register", data={
        "r-csrf_token": csrf(browser), "step": "create",
        "r-code": last_code(sms_platform, PHONE, "register"), "r-password": NEW_PASSWORD,
        "r-confirm": NEW_PASSWORD, "r-name": "李四", "r-agree": "y", "r-next": target})
    _assert_home(response)
    assert _users_with_phone(PHONE) == 1


def _with_authenticator_app(app: Flask, make_user: Any) -> tuple[Any, str]:
    user = make_user()
    enrolling = _fresh(app)
    enrolling.login(user)
    return user, enrol_totp(enrolling).secret


@pytest.mark.parametrize("target", OFF_SITE, ids=OFF_SITE_IDS)
def test_the_second_factor_of_a_pending_login_never_redirects_off_site(app, make_user, target):
    user, secret = _with_authenticator_app(app, make_user)
    browser = _fresh(app)
    first = browser.login(user, next_url=target)
    assert first.status_code == 303 and first.headers["Location"] == "/login/mfa"
    response = browser.client.post("/login/mfa", data={
        "csrf_token": csrf(browser), "method": "totp", "code": next_totp(secret),
        "next": target})
    _assert_home(response)
    assert sso_cookie(browser) is not None


@pytest.mark.parametrize("target", OFF_SITE, ids=OFF_SITE_IDS)
def test_a_step_up_never_redirects_off_site(app, make_user, target):
    user = make_user()
    browser = _fresh(app)
    browser.login(user)
    secret = enrol_totp(browser).secret  # the session is still password-only
    response = browser.client.post("/login/mfa", data={
        "csrf_token": csrf(browser), "method": "totp", "code": next_totp(secret),
        "next": target})
    _assert_home(response)
    # With mfa already held, the page only forwards to next: still home.
    _assert_home(browser.client.get("/login/mfa", query_string={"next": target}))


# ---------------------------------------------------------------------------------------------
# 2. Phone numbers in any spelling are one number
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("spelling", SPELLINGS)
def test_a_registered_number_in_another_spelling_gets_the_taken_number_page_and_no_account(
        app, sms_platform, make_user, spelling):
    make_user(phone=PHONE)
    canonical = send_register_code(_fresh(app), PHONE)
    get_store(app).delete(f"sms-gap:{PHONE}")  # as if the minute between sends had passed
    browser = _fresh(app)
    respelled = send_register_code(browser, spelling)
    assert respelled.status_code == canonical.status_code == 200
    assert notice_of(respelled) == CODE_SENT and error_of(respelled) is None
    assert _comparable(respelled, PHONE) == _comparable(canonical, PHONE)
    assert [m["template"] for m in sms_messages(sms_platform, PHONE)] == \
        ["register_exists", "register_exists"]
    assert [m for m in app.extensions["sms_platform_messages"] if m["phone"] != PHONE] == []
    refused = create_account(browser, "123456", NEW_PASSWORD)
    assert refused.status_code == 400 and error_of(refused) == WRONG_CODE
    assert _users_with_phone(PHONE) == 1 and _user_count() == 1


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_logging_in_with_another_spelling_of_the_number_works_with_the_right_password(
        app, make_user, spelling):
    user = make_user(phone=PHONE)
    client = app.test_client()
    right = client.post("/login", data={"csrf_token": csrf(Browser(client)),
                                        "identifier": spelling, "password": user.password})
    assert right.status_code == 303 and right.headers["Location"] == "/"
    [success] = audit_events(Tag.LOGIN_SUCCESS.value)
    assert success.user_id == user.id


def test_logging_in_with_another_spelling_and_a_wrong_password_fails(app, make_user):
    make_user(phone=PHONE)
    client = app.test_client()
    wrong = client.post("/login", data={"csrf_token": csrf(Browser(client)),
                                        "identifier": "１３９１２３４５６７８",
                                        "password": "Wrong-Horse-9"})
    assert wrong.status_code == 400
    assert error_of(wrong) == "用户名、手机号码、身份证号码或密码不正确。"


def test_a_second_code_to_another_spelling_within_the_minute_is_refused_as_too_soon(
        app, sms_platform):
    first = send_register_code(_fresh(app), PHONE)
    second = send_register_code(_fresh(app), "+8613912345678")
    assert first.status_code == 200 and notice_of(first) == CODE_SENT
    assert second.status_code == 400 and error_of(second) == TOO_SOON
    assert len(sms_messages(sms_platform, PHONE)) == 1
    assert len(app.extensions["sms_platform_messages"]) == 1


def test_the_daily_limit_counts_every_spelling_of_a_number(app, sms_platform):
    codes, store = app.extensions["idp.sms_codes"], get_store(app)
    spellings = [PHONE, *SPELLINGS]
    for n in range(10):
        assert codes.send(spellings[n % len(spellings)], "login", "203.0.113.7").ok
        store.delete(f"sms-gap:{PHONE}")  # the minute between sends has passed
    refused = codes.send("８６１３９１２３４５６７８", "login", "203.0.113.7")
    assert (refused.ok, refused.reason) == (False, "daily_limit")
    assert len(sms_messages(sms_platform, PHONE)) == 10
    assert len(app.extensions["sms_platform_messages"]) == 10


def test_the_cli_stores_a_number_given_with_the_country_prefix_in_its_canonical_form(app):
    remember_secret(PASSWORD)
    result = app.test_cli_runner().invoke(args=[
        "users", "create", "--username", "citizen-cli", "--password", PASSWORD,
        "--phone", "+86 13912345678", "--json"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    user = db.session.execute(select(User).where(User.username == "citizen-cli")).scalar_one()
    assert user.phone == PHONE


def test_the_cli_refuses_a_second_account_for_another_spelling_of_a_number(app, make_user):
    make_user(phone=PHONE)
    result = app.test_cli_runner().invoke(args=[
        "users", "create", "--username", "citizen-cli", "--password", PASSWORD,
        "--phone", "１３９ １２３４ ５６７８"])
    assert result.exit_code == 2
    assert result.stderr == "Error: an account with this username or phone already exists\n"
    assert _users_with_phone(PHONE) == 1


# ---------------------------------------------------------------------------------------------
# 3. No account enumeration
# ---------------------------------------------------------------------------------------------
def _send(browser: Browser, path: str, phone: str, ip: str | None = None) -> Any:
    overrides = {"REMOTE_ADDR": ip} if ip else {}
    page = browser.client.get(path, environ_overrides=overrides)
    return browser.client.post(path, data={"p-csrf_token": csrf(browser), "step": "send",
                                            "p-phone": phone, **captcha_of(browser, page)},
                               environ_overrides=overrides)


@pytest.mark.parametrize(("path", "code_template", "notice_template", "notice"), [
    ("/login/sms", "login", "no_account", IF_REGISTERED),
    ("/recover", "reset", "no_account", IF_REGISTERED),
    ("/register", "register", "register_exists", CODE_SENT),
], ids=["sms-login", "recovery", "registration"])
def test_registered_and_unregistered_numbers_get_the_same_page_and_one_sms_each(
        app, sms_platform, make_user, path, code_template, notice_template, notice):
    make_user(phone=PHONE)
    registered = _send(_fresh(app), path, PHONE)
    unregistered = _send(_fresh(app), path, OTHER_PHONE)
    assert registered.status_code == unregistered.status_code == 200
    assert notice_of(registered) == notice_of(unregistered) == notice
    assert error_of(registered) is None and error_of(unregistered) is None
    assert _comparable(registered, PHONE) == _comparable(unregistered, OTHER_PHONE)
    [to_registered] = sms_messages(sms_platform, PHONE)
    [to_unregistered] = sms_messages(sms_platform, OTHER_PHONE)
    # Only the template tells the two apart, and only the number's owner reads it.
    taken = path == "/register"
    assert to_registered["template"] == (notice_template if taken else code_template)
    assert to_unregistered["template"] == (code_template if taken else notice_template)
    remember_secret((to_registered if not taken else to_unregistered)["params"]["code"])
    assert (to_unregistered if not taken else to_registered)["params"] == {}


def test_registration_checks_are_rate_limited_per_ip_alike_for_registered_numbers(
        app, sms_platform, make_user):
    make_user(phone=PHONE)
    ip = "198.51.100.30"
    browser = _fresh(app)
    for n in range(30):
        sent = _send(browser, "/register", f"1370000{n:04d}", ip)
        assert sent.status_code == 200, error_of(sent)
    registered = _send(_fresh(app), "/register", PHONE, ip)
    unregistered = _send(_fresh(app), "/register", OTHER_PHONE, ip)
    assert registered.status_code == unregistered.status_code == 400
    assert error_of(registered) == error_of(unregistered) == IP_LIMITED
    assert notice_of(registered) == notice_of(unregistered) == IP_LIMITED
    assert _comparable(registered, PHONE) == _comparable(unregistered, OTHER_PHONE)
    assert sms_messages(sms_platform, PHONE) == sms_messages(sms_platform, OTHER_PHONE) == []
    assert len(app.extensions["sms_platform_messages"]) == 30


# ---------------------------------------------------------------------------------------------
# 4. Client registration: https URIs
# ---------------------------------------------------------------------------------------------
URI_KINDS = {
    "redirect URI": lambda uri: {"redirect_uris": [uri]},
    "post-logout redirect URI": lambda uri: {"post_logout_redirect_uris": [uri]},
    "back-channel logout URI": lambda uri: {"backchannel_logout_uri": uri},
    "JWKS URI": lambda uri: {"auth_method": "private_key_jwt", "jwks_uri": uri,
                             "grant_types": ["authorization_code"]},
}


def _register(service: ClientService, what: str, uri: str) -> Any:
    values: dict[str, Any] = {"name": "业务系统", "auth_method": "client_secret_basic",
                              "redirect_uris": ["https://rp.example.gov.cn/cb"]}
    values.update(URI_KINDS[what](uri))
    registered = service.register(**values)
    remember_secret(registered.client_secret)
    return registered


def _production_clients(app: Flask) -> ClientService:
    return ClientService(app.extensions["idp.client_secret_hasher"], allow_loopback_http=False)


@pytest.mark.parametrize("what", list(URI_KINDS))
def test_an_http_uri_to_a_non_loopback_host_is_refused(provider, what):
    uri = "http://rp.example.gov.cn/cb"
    with pytest.raises(ClientRegistrationError) as refused:
        _register(provider.clients, what, uri)
    assert str(refused.value) == \
        f"{what} must use https (http only on a loopback host in development): {uri}"
    assert db.session.execute(select(Client)).first() is None


@pytest.mark.parametrize("what", list(URI_KINDS))
@pytest.mark.parametrize("uri", ["http://127.0.0.1:8080/cb", "http://[::1]:8080/cb",
                                 "http://localhost/cb"])
def test_an_http_uri_to_a_loopback_host_is_accepted_outside_production(provider, what, uri):
    client = _register(provider.clients, what, uri).client
    assert uri in (client.redirect_uris + client.post_logout_redirect_uris +
                   [client.backchannel_logout_uri, client.jwks_uri])


@pytest.mark.parametrize("what", list(URI_KINDS))
@pytest.mark.parametrize("uri", ["http://127.0.0.1:8080/cb", "http://[::1]:8080/cb",
                                 "http://localhost/cb"])
def test_production_refuses_http_even_to_a_loopback_host(app, what, uri):
    with pytest.raises(ClientRegistrationError) as refused:
        _register(_production_clients(app), what, uri)
    assert str(refused.value) == f"{what} must use https (http only in development): {uri}"
    assert db.session.execute(select(Client)).first() is None


def test_production_accepts_https_uris(app):
    registered = _production_clients(app).register(
        name="业务系统", auth_method="client_secret_basic",
        redirect_uris=["https://rp.example.gov.cn/cb"],
        post_logout_redirect_uris=["https://rp.example.gov.cn/bye"],
        backchannel_logout_uri="https://rp.example.gov.cn/bc")
    remember_secret(registered.client_secret)
    assert registered.client.redirect_uris == ["https://rp.example.gov.cn/cb"]
    assert registered.client.backchannel_logout_uri == "https://rp.example.gov.cn/bc"


@pytest.mark.parametrize("what", list(URI_KINDS))
@pytest.mark.parametrize("uri", [
    "https://user:pw@rp.example.gov.cn/cb",
    "https://user@rp.example.gov.cn/cb",
    "https://:pw@rp.example.gov.cn/cb",
    "https://rp.example.gov.cn\\@evil.example/cb",
    "https://rp.example.gov.cn/cb\\..\\x",
    "https://rp.example.gov.cn/cb#frag",
    "https://rp.example.gov.cn/c b",
    "ftp://rp.example.gov.cn/cb",
    "https:///cb",
], ids=["user-and-password", "user", "password", "backslash-in-authority", "backslash-in-path",
        "fragment", "space", "other-scheme", "no-host"])
def test_credentials_backslashes_and_fragments_in_a_uri_are_refused(provider, what, uri):
    with pytest.raises(ClientRegistrationError) as refused:
        _register(provider.clients, what, uri)
    assert str(refused.value) == f"{what} must be an absolute https URL without fragment: {uri}"
    assert db.session.execute(select(Client)).first() is None


@pytest.mark.parametrize("uri", ["https://rp.example.gov.cn/cb#",
                                 "https://rp.example.gov.cn/cb?x=1#"])
def test_a_redirect_uri_with_an_empty_fragment_is_refused(provider, uri):
    """RFC 6749 §3.1.2: the URI MUST NOT include a fragment component; "#" is one, empty."""
    with pytest.raises(ClientRegistrationError) as refused:
        _register(provider.clients, "redirect URI", uri)
    assert str(refused.value) == \
        f"redirect URI must be an absolute https URL without fragment: {uri}"
    assert db.session.execute(select(Client)).first() is None


def test_the_cli_refuses_an_http_redirect_uri_naming_the_rule(app):
    result = app.test_cli_runner().invoke(args=[
        "clients", "create", "--name", "业务系统", "--redirect-uri", "http://rp.example.gov.cn/cb",
        "--json"])
    assert result.exit_code == 2
    assert result.stderr == ("Error: redirect URI must use https (http only on a loopback host "
                             "in development): http://rp.example.gov.cn/cb\n")
    assert db.session.execute(select(Client)).first() is None


# ---------------------------------------------------------------------------------------------
# 5. id_token_hint is an ID token of a registered client
# ---------------------------------------------------------------------------------------------
def _signed_in_with_tokens(app: Flask, browser: Browser, make_user: Any,
                           make_client: Any) -> tuple[Any, Any, dict[str, Any]]:
    user, client = make_user(), make_client()
    return user, client, tokens_for(app, browser, user, client)


def _still_signed_in(browser: Browser, client: Any) -> bool:
    return "code" in redirect_params(browser.authorize(client, prompt="none",
                                                       code_challenge="a" * 43,
                                                       code_challenge_method="S256"))


def _hint(kind: str, provider: Any, browser: Browser, user: Any, client: Any,
          tokens: dict[str, Any]) -> str:
    sid = sid_of(browser)
    if kind == "access token":
        return str(tokens["access_token"])
    if kind == "logout token":
        hint = provider.tokens.logout_token(client=provider.clients.get(client.client_id),
                                            sub=user.id, sid=sid)
    elif kind == "ID token of an unknown client":
        stranger = Client(client_id="c_not_registered", id_token_alg="RS256")
        hint = provider.tokens.id_token(client=stranger, sub=user.id, auth_time=0, acr="2",
                                        amr=["pwd"], sid=sid, nonce=None, access_token=None)
    else:
        return "garbage.garbage.garbage"
    remember_secret(hint)
    return str(hint)


@pytest.mark.parametrize("kind", ["access token", "logout token", "ID token of an unknown client",
                                  "garbage"])
def test_an_id_token_hint_that_is_not_an_id_token_of_a_registered_client_gets_the_error_page(
        app, provider, browser, make_user, make_client, kind):
    user, client, tokens = _signed_in_with_tokens(app, browser, make_user, make_client)
    hint = _hint(kind, provider, browser, user, client, tokens)
    response = browser.client.get("/logout", query_string={"id_token_hint": hint})
    assert response.status_code == 400
    assert "Location" not in response.headers and "Set-Cookie" not in response.headers
    assert LOGOUT_INVALID in html.unescape(text_of(response))
    assert _still_signed_in(browser, client)


def test_an_id_token_hint_naming_another_client_than_client_id_gets_the_error_page(
        app, browser, make_user, make_client):
    _user, _client, tokens = _signed_in_with_tokens(app, browser, make_user, make_client)
    other = make_client(redirect_uri="https://b.example.gov.cn/cb")
    response = browser.client.get("/logout", query_string={
        "id_token_hint": tokens["id_token"], "client_id": other.client_id})
    assert response.status_code == 400
    assert LOGOUT_INVALID in html.unescape(text_of(response))


def test_a_real_id_token_hint_still_logs_out(app, browser, make_user, make_client):
    _user, client, tokens = _signed_in_with_tokens(app, browser, make_user, make_client)
    response = browser.client.get("/logout", query_string={"id_token_hint": tokens["id_token"]})
    assert response.status_code == 200
    assert "idp_sso=;" in response.headers["Set-Cookie"]
    assert redirect_params(browser.authorize(client, prompt="none"))["error"] == "login_required"


# ---------------------------------------------------------------------------------------------
# 6. Exactly one client authentication method (RFC 6749 §2.3)
# ---------------------------------------------------------------------------------------------
ASSERTION = {"client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
             "client_assertion": "eyJhbGciOiJSUzI1NiJ9.e30.c2ln"}
TWO_METHODS = {"error": "invalid_request",
               "error_description": "The client used more than one authentication method; use "
                                    "exactly one (RFC 6749 section 2.3)."}
ENDPOINT_BODIES = {
    "/token": {"grant_type": "client_credentials"},
    "/revoke": {"token": "some-token"},
    "/introspect": {"token": "some-token"},
}


def _basic(value: bytes) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(value).decode()}


@pytest.mark.parametrize("path", list(ENDPOINT_BODIES))
def test_basic_with_a_client_secret_in_the_body_is_invalid_request(app, make_client, path):
    client = make_client()
    response = post_as(app, path, client, client_secret=client.client_secret,
                       **ENDPOINT_BODIES[path])
    assert response.status_code == 400 and response.json == TWO_METHODS


@pytest.mark.parametrize("path", list(ENDPOINT_BODIES))
def test_basic_with_a_client_assertion_is_invalid_request(app, make_client, path):
    client = make_client()
    response = post_as(app, path, client, **ASSERTION, **ENDPOINT_BODIES[path])
    assert response.status_code == 400 and response.json == TWO_METHODS


@pytest.mark.parametrize("path", list(ENDPOINT_BODIES))
def test_client_secret_post_with_a_client_assertion_is_invalid_request(app, make_client, path):
    client = make_client(auth_method="client_secret_post")
    response = app.test_client().post(path, data={
        "client_id": client.client_id, "client_secret": client.client_secret, **ASSERTION,
        **ENDPOINT_BODIES[path]})
    assert response.status_code == 400 and response.json == TWO_METHODS


@pytest.mark.parametrize("path", list(ENDPOINT_BODIES))
def test_a_body_client_id_other_than_basics_is_invalid_request(app, make_client, path):
    client = make_client()
    other = make_client(redirect_uri="https://b.example.gov.cn/cb")
    response = post_as(app, path, client, client_id=other.client_id, **ENDPOINT_BODIES[path])
    assert response.status_code == 400
    assert response.json == {"error": "invalid_request",
                             "error_description": "The client_id in the body differs from the "
                                                  "one in the Authorization header."}


@pytest.mark.parametrize("path", list(ENDPOINT_BODIES))
@pytest.mark.parametrize("header", [
    {"Authorization": "Basic !!!not-base64!!!"},
    {"Authorization": "Basic "},
    _basic(b"no-colon-here"),
    _basic(b":secret-without-id"),
    _basic(b"\xff\xfe:latin-1"),
    _basic('客户端"\\:x'.encode()),
], ids=["not-base64", "empty", "no-colon", "no-client-id", "not-utf-8", "unquotable-id"])
def test_malformed_basic_credentials_are_401_invalid_client_with_a_challenge(
        app, path, header):
    response = app.test_client().post(path, data=ENDPOINT_BODIES[path], headers=header)
    assert response.status_code == 401
    assert response.json == {"error": "invalid_client",
                             "error_description": "The HTTP Basic credentials are malformed."}
    assert response.headers["WWW-Authenticate"] == (
        'Basic error="invalid_client", '
        'error_description="The HTTP Basic credentials are malformed."')


# ---------------------------------------------------------------------------------------------
# 7. Introspection by another client
# ---------------------------------------------------------------------------------------------
def test_a_token_of_another_client_is_inactive_to_the_introspecting_client(
        app, browser, make_user, make_client):
    user, owner = make_user(), make_client()
    stranger = make_client(redirect_uri="https://b.example.gov.cn/cb")
    tokens = tokens_for(app, browser, user, owner)
    for value in (tokens["access_token"], tokens["refresh_token"]):
        response = introspect(app, stranger, value)
        assert response.status_code == 200 and response.json == {"active": False}


def test_a_client_registered_to_introspect_for_the_owner_sees_its_tokens(
        app, browser, make_user, make_client):
    user, owner = make_user(), make_client()
    tokens = tokens_for(app, browser, user, owner)
    resource_server = make_client(redirect_uri="https://api.example.gov.cn/cb",
                                  introspects_for=[owner.client_id])
    for value in (tokens["access_token"], tokens["refresh_token"]):
        seen = introspect(app, resource_server, value)
        own = introspect(app, owner, value)
        assert seen.status_code == 200 and seen.json["active"] is True
        assert seen.json == own.json
        assert seen.json["client_id"] == owner.client_id and seen.json["sub"] == user.id


def test_introspecting_for_one_client_does_not_open_another_clients_tokens(
        app, browser, make_user, make_client):
    user, owner = make_user(), make_client()
    unrelated = make_client(redirect_uri="https://c.example.gov.cn/cb")
    tokens = tokens_for(app, browser, user, owner)
    resource_server = make_client(redirect_uri="https://api.example.gov.cn/cb",
                                  introspects_for=[unrelated.client_id])
    assert introspect(app, resource_server, tokens["access_token"]).json == {"active": False}


def test_the_cli_stores_the_clients_a_resource_server_introspects_for(app, provider):
    result = app.test_cli_runner().invoke(args=[
        "clients", "create", "--name", "接口网关", "--redirect-uri", "https://api.example.gov.cn/cb",
        "--introspect-for", "c_owner_a", "--introspect-for", "c_owner_b", "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    remember_secret(out["client_secret"])
    db.session.expire_all()
    stored = db.session.execute(
        select(Client).where(Client.client_id == out["client_id"])).scalar_one()
    assert stored.introspects_for == ["c_owner_a", "c_owner_b"]


# ---------------------------------------------------------------------------------------------
# 8. A code presented by another client
# ---------------------------------------------------------------------------------------------
def test_a_code_presented_by_another_client_is_not_consumed_and_revokes_nothing(
        app, browser, make_user, make_client):
    user, client = make_user(), make_client()
    thief = make_client(redirect_uri="https://b.example.gov.cn/cb")
    browser.login(user)
    code, verifier = browser.code_for(client)
    stolen = token_request(app, thief, grant_type="authorization_code", code=code,
                           redirect_uri=client.redirect_uri, code_verifier=verifier)
    assert stolen.status_code == 400 and stolen.json["error"] == "invalid_grant"
    exchanged = exchange(app, client, code, verifier)
    assert exchanged.status_code == 200
    tokens = exchanged.json
    # Presented again by the other client after its exchange: still nothing revoked.
    again = token_request(app, thief, grant_type="authorization_code", code=code,
                          redirect_uri=client.redirect_uri, code_verifier=verifier)
    assert again.status_code == 400 and again.json["error"] == "invalid_grant"
    assert audit_events(Tag.CODE_REPLAYED.value) == []
    assert introspect(app, client, tokens["access_token"]).json["active"] is True
    refreshed = refresh(app, client, tokens["refresh_token"])
    assert refreshed.status_code == 200
    remember_secret(refreshed.json["access_token"], refreshed.json["refresh_token"])
    # The right client's exchange was the one use.
    assert exchange(app, client, code, verifier).json["error"] == "invalid_grant"


# ---------------------------------------------------------------------------------------------
# 9. phone_number_verified
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("verified", [True, False])
def test_phone_number_verified_in_userinfo_is_the_accounts_verification_state(
        app, browser, make_user, make_client, verified):
    user = make_user(phone=PHONE, phone_verified=verified)
    tokens = tokens_for(app, browser, user, make_client(), scope="openid phone")
    response = browser.client.get("/userinfo", headers={
        "Authorization": "Bearer " + tokens["access_token"]})
    assert response.json == {"sub": user.id, "phone_number": "+86" + PHONE,
                             "phone_number_verified": verified}


# ---------------------------------------------------------------------------------------------
# Second apps (10, 13): their own SQLite file and in-process store
# ---------------------------------------------------------------------------------------------
@contextmanager
def other_app(tmp_path: Path, migrate: bool = True, **values: Any) -> Iterator[Flask]:
    secret_key = secrets.token_urlsafe(48)
    remember_secret(secret_key)
    values.setdefault("issuer", "http://127.0.0.1:5999")
    settings = Settings.from_env({}, env="test", secret_key=secret_key,
                                 database_url="sqlite:///" + str(tmp_path / "other-idp.db"),
                                 argon2_memory_kib=8192, argon2_time_cost=1, **values)
    other = create_app(settings, TESTING=True)
    other.test_client_class = IsolatedClient
    try:
        if migrate:
            with other.app_context():
                from flask_migrate import upgrade

                upgrade()
                other.extensions["idp.provider"].keys.ensure_keys()
        yield other
    finally:
        with other.app_context():
            db.session.remove()
            db.engine.dispose()


# ---------------------------------------------------------------------------------------------
# 10. HSTS
# ---------------------------------------------------------------------------------------------
def test_an_https_issuer_sends_strict_transport_security(tmp_path):
    with other_app(tmp_path, migrate=False, issuer="https://id.example.gov.cn") as other:
        client = other.test_client()
        for path in ("/healthz", "/login"):
            response = client.get(path)
            assert response.headers["Strict-Transport-Security"] == \
                "max-age=31536000; includeSubDomains"


def test_an_http_issuer_sends_no_strict_transport_security(app):
    for path in ("/healthz", "/login"):
        assert "Strict-Transport-Security" not in app.test_client().get(path).headers


# ---------------------------------------------------------------------------------------------
# 11. Production refusals
# ---------------------------------------------------------------------------------------------
PRODUCTION = {k: v for k, v in VALID_PRODUCTION.items() if k != "IDP_SECRET_KEY"}
WEAK_SECRETS = ["a" * 64, "abcdefghijklmnopqrstuvwxyz0123456789ABCDEF",
                "test-secret-key-" + "x" * 32, "correcthorse" * 4, "Tianjin-2026!" * 4]


@pytest.mark.parametrize("secret", WEAK_SECRETS, ids=["one-letter", "alphabet", "test-key",
                                                      "word-repeated", "phrase-repeated"])
def test_production_refuses_a_predictable_secret_naming_idp_secret_key(secret):
    with pytest.raises(SettingsError, match=r"^IDP_SECRET_KEY is too predictable"):
        Settings.from_env({**PRODUCTION, "IDP_SECRET_KEY": secret})


def test_production_accepts_a_generated_secret():
    secret = secrets.token_urlsafe(48)
    settings = Settings.from_env({**PRODUCTION, "IDP_SECRET_KEY": secret})
    assert settings.is_production is True and settings.secret_key == secret


@pytest.mark.parametrize("value", ["1", "true", "yes", "on"])
def test_production_refuses_flask_debug(value):
    environ = {**PRODUCTION, "IDP_SECRET_KEY": secrets.token_urlsafe(48), "FLASK_DEBUG": value}
    with pytest.raises(SettingsError, match=r"^FLASK_DEBUG must be off in production"):
        Settings.from_env(environ)


@pytest.mark.parametrize("value", ["", "0", "false", "off"])
def test_production_accepts_flask_debug_off(value):
    environ = {**PRODUCTION, "IDP_SECRET_KEY": secrets.token_urlsafe(48), "FLASK_DEBUG": value}
    assert Settings.from_env(environ).is_production is True


def test_the_idp_command_refuses_a_weak_production_secret_in_one_line_exit_2(tmp_path):
    idp = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "idp"
    environ = {**PRODUCTION, "IDP_SECRET_KEY": "a" * 64, "PATH": os.environ.get("PATH", "")}
    result = subprocess.run([str(idp), "db", "upgrade"], cwd=tmp_path, env=environ,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: IDP_SECRET_KEY"), result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert list(tmp_path.iterdir()) == []  # nothing was created (no instance database)


# ---------------------------------------------------------------------------------------------
# 12. Common passwords
# ---------------------------------------------------------------------------------------------
def test_the_common_password_list_holds_the_published_lists_and_the_chinese_favourites():
    common = common_passwords()
    assert len(common) >= 40_000
    assert {"password1", "qwerty123", "iloveyou", "woaini1314"} <= common


@pytest.mark.parametrize("password", ["Woaini1314", "Password1", "Qwerty123"])
def test_a_common_password_is_refused_at_registration(browser, sms_platform, password):
    send_register_code(browser, PHONE)
    response = create_account(browser, last_code(sms_platform, PHONE, "register"), password)
    assert response.status_code == 400
    assert problems_of(response) == [POLICY["common"]]
    assert _users_with_phone(PHONE) == 0


# ---------------------------------------------------------------------------------------------
# 13. Trusted proxies
# ---------------------------------------------------------------------------------------------
def _login(client: Any, identifier: str, password: str, forwarded_for: str | None) -> Any:
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    page = client.get("/login", headers=headers)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', text_of(page))
    assert token is not None
    return client.post("/login", headers=headers, data={
        "csrf_token": token.group(1), "identifier": identifier, "password": password})


def test_behind_a_trusted_proxy_the_forwarded_client_is_audited_listed_and_limited(tmp_path):
    with other_app(tmp_path, trusted_proxies="127.0.0.1/32", login_ip_limit=2) as other:
        with other.app_context():
            remember_secret(PASSWORD)
            user = other.extensions["idp.accounts"].create_user(
                username="citizen-proxied", password=PASSWORD, phone=PHONE)
            accept_agreements(other, user.id)  # a returning person: no agreements page
            db.session.commit()
            user_id = user.id
        # The client claims 192.0.2.66; the proxy (the peer, 127.0.0.1) saw 203.0.113.5.
        chain = "192.0.2.66, 203.0.113.5"
        for name in ("nobody-1", "nobody-2"):
            failed = _login(other.test_client(), name, "Wrong-Horse-9", chain)
            assert failed.status_code == 400
        with other.app_context():
            failures = audit_events(Tag.LOGIN_FAILURE.value)
            assert [e.ip for e in failures] == ["203.0.113.5", "203.0.113.5"]
            guard_rows = {row.subject: row.failures for row in
                          db.session.execute(select(LoginGuardRow)).scalars()}
            assert guard_rows["ip:203.0.113.5"] == 2
            assert "ip:127.0.0.1" not in guard_rows
        limited = _login(other.test_client(), "citizen-proxied", PASSWORD, chain)
        assert limited.status_code == 400 and error_of(limited) == NETWORK_LOCKED
        signed_in = _login(other.test_client(), "citizen-proxied", PASSWORD, "203.0.113.6")
        assert signed_in.status_code == 303
        with other.app_context():
            [session] = other.extensions["idp.sessions"].for_user(user_id)
            assert session.ip == "203.0.113.6"
            [success] = audit_events(Tag.LOGIN_SUCCESS.value)
            assert success.ip == "203.0.113.6"


def test_without_trusted_proxies_x_forwarded_for_is_ignored(app, make_user):
    user = make_user()
    failed = _login(app.test_client(), user.username, "Wrong-Horse-9", "203.0.113.5")
    assert failed.status_code == 400
    [failure] = audit_events(Tag.LOGIN_FAILURE.value)
    assert failure.ip == "127.0.0.1"
    guard_rows = {row.subject: row.failures for row in
                  db.session.execute(select(LoginGuardRow)).scalars()}
    assert guard_rows.get("ip:127.0.0.1") == 1 and "ip:203.0.113.5" not in guard_rows
    signed_in = _login(app.test_client(), user.username, user.password, "203.0.113.5")
    assert signed_in.status_code == 303
    [session] = app.extensions["idp.sessions"].for_user(user.id)
    assert session.ip == "127.0.0.1"


# ---------------------------------------------------------------------------------------------
# 14. A failing statement carries no personal data in its message
# ---------------------------------------------------------------------------------------------
def test_a_failing_statement_never_reaches_the_log_with_its_values(app, make_user, caplog):
    """hide_parameters keeps SQLAlchemy from quoting the values; PostgreSQL's own message
    still names the duplicate ("Key (phone)=(…)"), so the provider logs an unhandled database
    error by class, SQLSTATE and place only."""
    user = make_user(phone=PHONE)
    password_hash = db.session.get(User, user.id).password_hash
    db.session.add(User(username="citizen-twin", phone=PHONE, password_hash=password_hash))
    with pytest.raises(IntegrityError) as failed:
        db.session.flush()
    db.session.rollback()
    message = str(failed.value)
    assert "user_account" in message  # the statement is named …
    assert "[parameters:" not in message and password_hash not in message  # … not its values
    # a duplicate is a write that lost a race (409); any other database error is a 500:
    # neither logs the values
    other = DBAPIError(failed.value.statement, failed.value.params, failed.value.orig)
    for error, status, said in ((failed.value, 409, "concurrent write refused"),
                                (other, 500, "database error")):
        caplog.clear()
        with app.test_request_context("/register", method="POST"), \
                caplog.at_level(logging.DEBUG):
            response = _unexpected(error)
        assert response.status_code == status
        logged = "\n".join(r.getMessage() + (r.exc_text or "") for r in caplog.records)
        assert said in logged and "/register" in logged
        assert PHONE not in logged and password_hash not in logged


# ---------------------------------------------------------------------------------------------
# 15. Refused input always says why
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["/register", "/recover", "/login/sms"])
def test_a_step_a_page_does_not_have_is_refused_with_a_message(app, path):
    browser = _fresh(app)
    response = browser.client.post(path, data={"p-csrf_token": csrf(browser),
                                               "step": "delete-everything"})
    assert response.status_code == 400
    assert error_of(response) == "请求无效。"


def test_an_overlong_second_step_code_is_refused_with_a_field_message(app, make_user):
    user, _secret = _with_authenticator_app(app, make_user)
    browser = _fresh(app)
    browser.login(user)
    response = browser.client.post("/login/mfa", data={
        "csrf_token": csrf(browser), "method": "totp", "code": "1" * 300})
    assert response.status_code == 400
    assert 'class="field-error" id="code-error"' in text_of(response)
    assert sso_cookie(browser) is None
