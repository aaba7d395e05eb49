"""No input yields a 5xx: every route of the provider, fed wrong methods, broken encodings, NUL,
huge and nested bodies, long and odd headers and garbage cookies, answers a 4xx (or its normal
answer) with a message the caller can read: RFC 6749 §5.2 / RFC 6750 §3 JSON on the protocol
endpoints, a page with a heading and an alert elsewhere. Then the named cases of the issue, and
refresh under concurrency over real HTTP. Runs on both stores (SQLite+memory, PostgreSQL+Redis).
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, quote, urlencode, urlsplit

import pytest
import requests
from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from joserfc import jwt
from joserfc.jwk import RSAKey

from idp import create_app
from idp.audit.tags import Tag
from idp.http import LARGE_BODIES
from idp.settings import Settings
from tests.conftest import (
    Browser,
    LiveServer,
    csrf_from,
    fresh_captcha,
    last_code,
    solve_captcha,
)
from tests.conftest import TestClient as RegisteredClient
from tests.integration.citizens import (
    audit_events,
    error_of,
    second_factor,
    send_mfa_sms,
    text_of,
)
from tests.integration.helpers import tokens_for

# The endpoints a program calls; their errors are JSON with an `error` member.
PROTOCOL_PREFIXES = ("/token", "/revoke", "/introspect", "/userinfo", "/jwks", "/.well-known/",
                     "/healthz", "/readyz", "/admin/api/", "/ssf/")
# The security-event endpoints answer in the SET delivery RFCs' shape (RFC 8935 §2.3, RFC 8936
# §2.4: `err`, `description`) where they decide; the framework's own errors stay RFC 6749's.
SET_PREFIX = "/ssf/"
# The deployment's stylesheet and emblem (docs/branding.md): a 200 is the asset, not a page.
ASSET_TYPES = {"/brand/style.css": "text/css", "/brand/emblem": "image/"}
# A person's copy of their data (docs/personal-data.md): a 200 is the file, not a page.
DOWNLOADS = {"/account/data.json": "application/json"}
# RFC 6749 §5.2: the characters an `error` code may use.
ERROR_CODE = re.compile(r"[\x20\x21\x23-\x5B\x5D-\x7E]+")
HEADING = re.compile(r"<h1[^>]*>\s*([^<\s][^<]*)</h1>")
MESSAGE = re.compile(r'<(?:p|div)[^>]*(?:role="alert"|class="field-error")[^>]*>\s*([^<\s][^<]*)<')
RP_CALLBACK = "https://rp.example.gov.cn/callback"
RP_BYE = "https://rp.example.gov.cn/bye"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
HUGE = max(256 * 1024, *LARGE_BODIES.values()) + 1024  # over every body limit (idp.http)
ALL_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "TRACE")
BATTERY_METHODS = ("GET", "POST")  # HEAD: in the 405 tests, where a route refuses it


# --- the routes, read from the application itself ---
@dataclass(frozen=True)
class Route:
    rule: str
    endpoint: str
    methods: frozenset[str]
    arguments: tuple[str, ...]

    @property
    def protocol(self) -> bool:
        return self.rule.startswith(PROTOCOL_PREFIXES)

    def path(self, *, encoded: bool = False, **values: str) -> str:
        """The rule with its variables filled in: percent-encoded here, or (encoded=True)
        taken as already encoded, the way they would appear in the request line."""
        return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", lambda m: values[m.group(1)] if encoded
                      else quote(values[m.group(1)], safe=""), self.rule)


def _routes_of(app: Flask) -> list[Route]:
    return sorted((Route(rule.rule, rule.endpoint, frozenset(rule.methods or ()),
                         tuple(sorted(rule.arguments)))
                   for rule in app.url_map.iter_rules() if rule.endpoint != "static"),
                  key=lambda r: r.rule)


def _collect_routes() -> list[Route]:
    """The rules of an application built like the fixture's, at collection time (the session
    fixture does not exist yet); test_every_route_of_the_application_is_fuzzed checks they are
    the running application's."""
    settings = Settings.from_env({}, env="test", secret_key="collection-only-" + "k" * 32,
                                 issuer="http://127.0.0.1:9", database_url="sqlite://")
    return _routes_of(create_app(settings, TESTING=True))


ROUTES = _collect_routes()
# Routes whose code runs only for a signed-in person: fuzzed signed in, so the input gets past
# the "please sign in" redirect into the view.
SIGNED_IN = {"accounts.account", "accounts.end_session", "accounts.revoke_app",
             "accounts.change_password", "accounts.change_phone", "accounts.totp",
             "accounts.recovery_codes", "accounts.second_factor", "oauth.authorize",
             "oauth.end_session", "oauth.end_session_confirmed", "identity.verify",
             "identity.cancel"}
SIGNED_IN |= {"accounts.data_copy", "accounts.data_copy_json", "accounts.data_copy_html"}
# Plausible values for path variables (`client_id` becomes the test's registered client).
PLAUSIBLE_PATH_VALUES = {"code": "en", "sid": "0" * 32, "client_id": "unknown-client",
                         "user_id": "u" * 36, "case_id": "1", "code_id": "c" * 36,
                         "staff_id": "s" * 36, "token": "t" * 43, "kind": "items",
                         "challenge": "x" * 22, "key": "terms"}
# Hostile ones, as they appear in the request line (the server percent-decodes them).
HOSTILE_PATH_VALUES = {
    "quotes_and_backslash": "a%22b%27c%5Cd",
    "non_ascii": "%E4%B8%AD%E6%96%87%E2%80%AE%F0%9F%98%80",
    "invalid_percent_encoding": "%zz%e4%b8%",
    "invalid_utf8": "%ff%fe%c0%af",
    "nul": "a%00b",
    "encoded_slash": "a%2Fb",
    "dot_segments": "%2e%2e",
    "tab_and_newline": "a%09b%0D%0Ac",
    "five_kilobytes": "p" * 5 * 1024,
}


# --- what a clear answer is ---
def _json(response: Any) -> Any:
    assert response.mimetype == "application/json", (response.status_code, response.mimetype)
    return json.loads(response.get_data(as_text=True))


def assert_clear_answer(route_path: str, method: str, response: Any,
                        client: RegisteredClient | None = None) -> None:
    """Never 5xx; protocol errors are JSON with an RFC 6749 §5.2 `error`; page errors carry a
    heading and a message; a redirect stays on the site or goes to the client's registered
    address; no header carries a line break."""
    status = response.status_code
    assert status < 500, (status, response.get_data(as_text=True)[:500])
    for name, value in response.headers.items():
        assert "\r" not in value and "\n" not in value, (name, value)
    if 300 <= status < 400:
        assert_location_is_safe(response.headers["Location"], client)
        return
    protocol = route_path.startswith(PROTOCOL_PREFIXES)
    if route_path in ASSET_TYPES and status == 200:
        assert response.mimetype.startswith(ASSET_TYPES[route_path]), response.mimetype
        return
    if route_path in DOWNLOADS and status == 200:
        assert response.mimetype == DOWNLOADS[route_path], response.mimetype
        assert response.headers["Content-Disposition"].startswith("attachment; "), \
            response.headers
        return
    if method == "HEAD":  # no body: the type says which kind of message a GET would carry
        assert response.get_data() == b""
        assert response.mimetype == ("application/json" if protocol else "text/html")
        return
    if protocol:
        body = _json(response)
        if status >= 400 and route_path.startswith(SET_PREFIX) and "err" in body:
            assert ERROR_CODE.fullmatch(body["err"]), body
            assert ERROR_CODE.fullmatch(body.get("description", "x")), body
        elif status >= 400:
            assert isinstance(body, dict) and ERROR_CODE.fullmatch(body["error"]), body
            # RFC 6749 §5.2 / RFC 6750 §3: the description is printable ASCII too.
            assert ERROR_CODE.fullmatch(body.get("error_description", "x")), body
        return
    assert response.mimetype == "text/html", (status, response.mimetype)
    page = response.get_data(as_text=True)
    assert HEADING.search(page), page[:800]
    if status >= 400:
        assert MESSAGE.search(page), page[:2000]


def assert_location_is_safe(location: str, client: RegisteredClient | None = None) -> None:
    """A same-site path ("/" alone, or "/" then neither "/" nor "\\"), or the client's
    registered redirect / post-logout address."""
    assert not any(c in location for c in "\r\n\t\x00"), location
    if client is not None and location.split("?", 1)[0] in (client.redirect_uri, RP_BYE):
        return
    assert location == "/" or re.match(r"/[^/\\]", location), location


def error_code_of(response: Any) -> str:
    body = _json(response)
    return str(body["error"] if "error" in body else body["err"])


# --- one test's caller: a person (signed in where the route needs it), a registered client ---
@dataclass
class Caller:
    app: Flask
    browser: Browser
    client: RegisteredClient | None
    csrf: str
    signed_in: bool

    def cookie_header(self) -> str:
        jar = self.browser.client
        pairs = [(name, jar.get_cookie(name)) for name in ("idp_flask", "idp_sso", "idp_lang")]
        return "; ".join(f"{name}={c.value}" for name, c in pairs if c is not None)

    def basic(self) -> str:
        assert self.client is not None
        raw = f"{self.client.client_id}:{self.client.client_secret}".encode()
        return "Basic " + base64.b64encode(raw).decode()


# Endpoints whose plausible request names the test's registered client.
USES_CLIENT = {"oauth.authorize", "oauth.token", "oauth.revoke", "oauth.introspect",
               "oauth.end_session", "oauth.end_session_confirmed", "accounts.revoke_app",
               "ssf.stream", "ssf.poll"}


def prepare(route: Route, method: str, browser: Browser, make_user: Any,
            make_client: Any) -> Caller:
    """Register a client and sign a person in where the route uses them; fetch a CSRF token
    where a form is posted (the token of the session, valid on every form)."""
    events = {"events_delivery": "poll"} if route.rule.startswith(SET_PREFIX) else {}
    client = make_client(post_logout_redirect_uris=[RP_BYE], **events) \
        if route.endpoint in USES_CLIENT else None
    signed_in = route.endpoint in SIGNED_IN
    token = ""
    if signed_in or method == "POST":
        token = csrf_from(text_of(browser.client.get("/login")))
    if signed_in:
        user = make_user()
        answer = browser.client.post("/login", data={
            "csrf_token": token, "identifier": user.username, "password": user.password})
        assert answer.status_code == 303, error_of(answer)
    return Caller(browser.client.application, browser, client, token, signed_in)


def base_parameters(route: Route, method: str, caller: Caller) -> dict[str, str]:
    """A well-formed request for the route, so hostile additions get as deep as they can."""
    rp, csrf = caller.client, caller.csrf
    rp_id = rp.client_id if rp is not None else ""
    callback = rp.redirect_uri if rp is not None else ""
    forms = {"csrf_token": csrf, "p-csrf_token": csrf, "r-csrf_token": csrf,
             "c-csrf_token": csrf}
    by_endpoint: dict[str, dict[str, str]] = {
        "accounts.login": {"identifier": "citizen-nobody", "password": "Wrong-Horse-9",
                           "next": "/account"},
        "accounts.login_sms": {"step": "send", "p-phone": "13800138000", "p-next": "/"},
        "accounts.register": {"step": "send", "p-phone": "13800138001", "p-next": "/"},
        "accounts.recover": {"step": "send", "p-phone": "13800138002"},
        "accounts.second_factor": {"method": "sms", "code": "123456", "next": "/account"},
        "accounts.change_password": {"current": "Wrong-Horse-9", "password": "New-Horse-9x!",
                                     "confirm": "New-Horse-9x!"},
        "accounts.change_phone": {"step": "change", "old_code": "123456",
                                  "new_phone": "13800138003", "new_code": "123456"},
        "accounts.totp": {"code": "123456"},
        "accounts.switch_language": {"next": "/account"},
        "oauth.authorize": {"response_type": "code", "client_id": rp_id,
                            "redirect_uri": callback, "scope": "openid profile",
                            "state": "st-1", "nonce": "n-1", "code_challenge": "c" * 43,
                            "code_challenge_method": "S256"},
        "oauth.token": {"grant_type": "refresh_token", "refresh_token": "not-a-refresh-token"},
        "oauth.revoke": {"token": "not-a-token", "token_type_hint": "refresh_token"},
        "oauth.introspect": {"token": "not-a-token", "token_type_hint": "access_token"},
        "oauth.end_session": {"client_id": rp_id, "post_logout_redirect_uri": RP_BYE,
                              "state": "st-2"},
        "oauth.end_session_confirmed": {"client_id": rp_id, "decision": "logout",
                                        "post_logout_redirect_uri": RP_BYE, "state": "st-3"},
    }
    params = dict(by_endpoint.get(route.endpoint, {}))
    if method == "POST" and params.get("step") == "send":
        params.update(fresh_captcha(caller.app))  # answered: the input reaches the sending
    if method == "POST" and (route.endpoint.startswith("accounts.") or
                             route.endpoint == "oauth.end_session_confirmed"):
        params.update(forms)
    return params


def base_headers(route: Route, caller: Caller) -> dict[str, str]:
    if route.rule in ("/token", "/revoke", "/introspect") or route.rule.startswith(SET_PREFIX):
        return {"Authorization": caller.basic()}
    if route.rule == "/userinfo":
        return {"Authorization": "Bearer not-an-access-token"}
    return {}


def path_for(route: Route, caller: Caller) -> str:
    values = dict(PLAUSIBLE_PATH_VALUES)
    if caller.client is not None:
        values["client_id"] = caller.client.client_id
    return route.path(**{name: values[name] for name in route.arguments})


# --- the hostile inputs ---
ODD = "a\"b'c\\d<e>&f;中文\u202e😀\tg\r\nh"
ODD_AND_LONG = ODD + "k" * 4 * 1024
# Everything the provider reads from a query or form, on any route.
PARAMETER_NAMES = (
    "response_type", "client_id", "redirect_uri", "scope", "state", "nonce", "prompt", "max_age",
    "acr_values", "claims", "login_hint", "ui_locales", "code_challenge",
    "code_challenge_method", "response_mode", "request", "request_uri", "registration",
    "decision", "next", "reauth", "again", "step", "method", "identifier", "password", "code",
    "grant_type", "refresh_token", "code_verifier", "client_secret", "client_assertion",
    "client_assertion_type", "token", "token_type_hint", "access_token", "id_token_hint",
    "post_logout_redirect_uri", "current", "confirm", "old_code", "new_phone", "new_code",
    "p-phone", "p-next", "c-code", "c-next", "r-code", "r-password", "r-confirm", "r-name",
    "r-next")
# Parameters that shape the request (which client, which grant, which form): kept valid when
# only the free-form ones are made odd, so the odd values travel all the way in.
STRUCTURAL = {"response_type", "client_id", "redirect_uri", "scope", "grant_type",
              "code_challenge_method", "token_type_hint", "client_assertion_type", "step",
              "method", "decision", "csrf_token", "p-csrf_token", "r-csrf_token",
              "c-csrf_token"}
FREE_FORM = tuple(n for n in PARAMETER_NAMES if n not in STRUCTURAL)


@dataclass(frozen=True)
class Request:
    """What a case sends on top of the route's plausible request."""

    query: list[tuple[str, str]] | None = None  # added to the query
    form: list[tuple[str, str]] | None = None  # added to the form (POST)
    raw_query: str | None = None  # appended raw (latin-1 str of the bytes) to the query
    raw_form: bytes | None = None  # appended raw to the urlencoded form body
    body: bytes | None = None  # replaces the body
    content_type: str | None = None
    headers: dict[str, str] | None = None  # latin-1 strs of the bytes, as WSGI has them
    cookies: str | None = None  # replaces the Cookie header
    extra_cookies: str | None = None  # appended to the Cookie header
    replace_free_form: str | None = None  # every free-form parameter gets this value
    replace_all: str | None = None  # every parameter gets this value
    repeat: bool = False  # every parameter twice


@dataclass(frozen=True)
class Case:
    name: str
    methods: tuple[str, ...]
    request: Callable[[Caller], Request]
    status: int | None = None  # the exact status, where the input decides it
    error: str | None = None  # the exact protocol error, where the input decides it


def _latin1(text: str) -> str:
    return text.encode().decode("latin-1")


def _forged_flask_session() -> str:
    forger = Flask("forger")
    forger.secret_key = "not-the-providers-key-" + "z" * 32
    serializer = SecureCookieSessionInterface().get_signing_serializer(forger)
    assert serializer is not None
    return str(serializer.dumps({"pending_login": {"uid": "x", "amr": ["pwd", "otp"],
                                                   "next": "//evil.example", "at": 0},
                                 "csrf_token": "forged"}))


def _odd_cookies(caller: Caller) -> Request:
    """The person's own session id with a wrong secret, a Flask session signed with another
    key (claiming a finished second step), and garbage: quotes, non-ASCII, no '=', no name."""
    cookie = caller.browser.client.get_cookie("idp_sso")
    sid = cookie.value.split(".", 1)[0] if cookie is not None else "a" * 32
    return Request(cookies=f"idp_sso={sid}.{'B' * 43}; idp_flask={_forged_flask_session()}; "
                           + _latin1('idp_lang="\\中; justtext; =x; idp_sso=.; a="b'))


BAD_PERCENT = "state=%zz&nonce=%&login_hint=%e4%b8&%zz=%&next=%2&%=%"
BAD_UTF8 = "state=\xff\xfe&nonce=\xc0\xaf&next=/\xed\xa0\x80&login_hint=\xe4\xb8&\xc3=1"
LONG_AND_ODD_HEADERS = {
    "User-Agent": _latin1("中文\u202e😀 \"'\\") + "u" * 16384,
    "Referer": "javascript:alert(1)//" + "r" * 16384,
    "Accept-Language": "zz-ZZZZ-99;q=abc, *;q=2, \"'\\, " + "en," * 5461,
    "X-Forwarded-For": "\"'\\, 999.999.1.1, ::::, unknown, " + "1.2.3.4, " * 1820,
    "X-Forwarded-Proto": "gopher", "X-Forwarded-Host": "evil.example", "Host": "evil.example",
    "If-None-Match": "\"\\", "If-Modified-Since": "yesterday", "Range": "bytes=9-1,x-y",
    "Origin": "null", "Authorization": _latin1("Basic \"\\中文 ==="),
}


CASES: tuple[Case, ...] = (
    Case("nul_in_query_names_and_values", ("GET",),
         lambda c: Request(query=[("state", "a\x00b"), ("st\x00ate", "a")]),
         400, "invalid_request"),
    Case("nul_in_form_names_and_values", ("POST",),
         lambda c: Request(form=[("state", "a\x00b"), ("st\x00ate", "a")]),
         400, "invalid_request"),
    Case("invalid_percent_encoding_and_utf8_in_the_query", ("GET",),
         lambda c: Request(raw_query=BAD_PERCENT + "&" + BAD_UTF8)),
    Case("invalid_percent_encoding_and_utf8_in_the_form", ("POST",),
         lambda c: Request(raw_form=(BAD_PERCENT + "&" + BAD_UTF8).encode("latin-1"))),
    Case("odd_characters_in_free_form_parameters", ("GET", "POST"),
         lambda c: Request(replace_free_form=ODD)),
    Case("odd_characters_4_kib_long_in_every_parameter", ("GET", "POST"),
         lambda c: Request(replace_all=ODD_AND_LONG)),
    Case("every_parameter_twice", ("GET", "POST"), lambda c: Request(repeat=True)),
    Case("body_over_256_kib", ("GET", "POST"),
         lambda c: Request(body=b"a=" + b"x" * HUGE,
                           content_type="application/x-www-form-urlencoded"),
         413, "invalid_request"),
    Case("deeply_nested_json_body", ("POST",),
         lambda c: Request(body=b"[" * 100_000 + b"]" * 100_000,
                           content_type="application/json")),
    Case("malformed_multipart_body", ("POST",),
         lambda c: Request(body=b'--zz\r\nContent-Disposition: form-data; name="a"\r\n\r\n'
                                b"no closing boundary",
                           content_type="multipart/form-data; boundary=zz")),
    Case("sixteen_kib_and_odd_headers", ("GET", "POST"),
         lambda c: Request(headers=LONG_AND_ODD_HEADERS,
                           extra_cookies="idp_junk=" + "j" * 16384)),
    Case("control_character_in_a_header", ("GET", "POST"),
         lambda c: Request(headers={"User-Agent": "agent\x01"}), 400, "invalid_request"),
    Case("garbage_and_forged_cookies", ("GET", "POST"), _odd_cookies),
)


# Sent twice with different values on every route, besides the route's own parameters.
TWICE = [("ui_locales", "en"), ("ui_locales", "zh-CN"), ("next", "/"),
         ("next", "//evil.example"), ("state", "1"), ("state", "2")]


def _params(route: Route, method: str, caller: Caller, req: Request) -> list[tuple[str, str]]:
    base = base_parameters(route, method, caller)
    if req.replace_all is not None:
        keep = {k: v for k, v in base.items() if k.endswith("csrf_token")}
        return [*keep.items(), *((n, req.replace_all) for n in PARAMETER_NAMES)]
    if req.replace_free_form is not None:
        kept = [(k, v) for k, v in base.items() if k in STRUCTURAL]
        return [*kept, *((n, req.replace_free_form) for n in FREE_FORM)]
    if req.repeat:
        return [*(pair for k, v in base.items() for pair in ((k, v), (k, v + "-again"))),
                *TWICE]
    return list(base.items())


def send(route: Route, method: str, caller: Caller, req: Request,
         path: str | None = None) -> Any:
    """Send the route's plausible request with the case's additions, as a browser or a
    program would put them on the wire (cookies in the Cookie header, not the client's jar)."""
    params = _params(route, method, caller, req)
    query: list[tuple[str, str]] = [] if method == "POST" else list(params)
    form: list[tuple[str, str]] = list(params) if method == "POST" else []
    query += req.query or []
    form += req.form or []
    environ: dict[str, str] = {}
    environ["QUERY_STRING"] = "&".join(p for p in (urlencode(query), req.raw_query) if p)
    kwargs: dict[str, Any] = {"method": method, "environ_overrides": environ}
    if req.body is not None:
        kwargs.update(data=req.body, content_type=req.content_type)
    elif method == "POST":
        body = urlencode(form).encode()
        if req.raw_form is not None:
            body = b"&".join(p for p in (body, req.raw_form) if p)
        kwargs.update(data=body, content_type="application/x-www-form-urlencoded")
    headers = {**base_headers(route, caller), **(req.headers or {})}
    for name, value in headers.items():
        key = "HTTP_" + name.upper().replace("-", "_")
        environ["HTTP_HOST" if name == "Host" else key] = value
    cookies = caller.cookie_header() if req.cookies is None else req.cookies
    if req.extra_cookies:
        cookies = "; ".join(p for p in (cookies, req.extra_cookies) if p)
    if cookies:
        environ["HTTP_COOKIE"] = cookies
    sender = caller.app.test_client(use_cookies=False)
    return sender.open(path or path_for(route, caller), **kwargs)


BATTERY = [pytest.param(route, method, case, id=f"{method} {route.rule} {case.name}")
           for route in ROUTES for method in BATTERY_METHODS if method in route.methods
           for case in CASES if method in case.methods]
NOT_ALLOWED = [pytest.param(route, method, id=f"{method} {route.rule}")
               for route in ROUTES for method in ALL_METHODS if method not in route.methods]


# --- 1. every route ---
def test_every_route_of_the_application_is_fuzzed(app):
    assert _routes_of(app) == ROUTES
    assert {r.rule for r in ROUTES} >= {"/authorize", "/token", "/login", "/logout"}


@pytest.mark.parametrize(("route", "method"), NOT_ALLOWED)
def test_a_method_a_route_does_not_accept_is_405_with_allow_and_a_message(app, route, method):
    path = route.path(**PLAUSIBLE_PATH_VALUES)
    response = app.test_client().open(path, method=method)
    assert response.status_code == 405
    assert set(response.headers["Allow"].split(", ")) == route.methods
    assert_clear_answer(path, method, response)
    if route.protocol and method != "HEAD":
        assert error_code_of(response) == "invalid_request"


@pytest.mark.parametrize(("route", "method", "case"), BATTERY)
def test_hostile_input_gets_a_clear_answer_and_never_a_server_error(
        app, browser, make_user, make_client, route, method, case):
    caller = prepare(route, method, browser, make_user, make_client)
    path = path_for(route, caller)
    response = send(route, method, caller, case.request(caller))
    assert_clear_answer(path, method, response, caller.client)
    if case.status is not None:
        assert response.status_code == case.status
        if route.protocol:
            assert error_code_of(response) == case.error


PATH_CASES = [pytest.param(route, method, value, id=f"{method} {route.rule} {name}")
              for route in ROUTES if route.arguments
              for method in BATTERY_METHODS if method in route.methods
              for name, value in HOSTILE_PATH_VALUES.items()]


@pytest.mark.parametrize(("route", "method", "value"), PATH_CASES)
def test_hostile_path_variables_get_a_clear_answer(app, browser, make_user, make_client, route,
                                                   method, value):
    caller = prepare(route, method, browser, make_user, make_client)
    path = route.path(encoded=True, **{name: value for name in route.arguments})
    response = send(route, method, caller, Request(), path=path)
    assert_clear_answer(path, method, response, caller.client)
    if "%00" in value:
        assert response.status_code == 400


NO_ROUTE = {"unknown_page": "/nope", "below_a_protocol_endpoint": "/token/extra",
            "invalid_utf8": "/%ff%fe", "nul": "/a%00b", "non_ascii_and_dots": "/\u4e2d/..",
            "eight_kib": "/" + "x" * 8192}


@pytest.mark.parametrize("path", NO_ROUTE.values(), ids=NO_ROUTE.keys())
def test_an_address_without_a_route_is_404_or_400_with_a_message(app, path):
    response = app.test_client().get(path)
    assert response.status_code == (400 if "%00" in path else 404)
    assert_clear_answer(path, "GET", response)


# --- 2. the named cases of the issue ---
def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def assert_refused_page(response: Any, error: str) -> None:
    """A 400 page naming the error, with a heading and a message, and no redirect."""
    assert response.status_code == 400
    assert "Location" not in response.headers
    assert_clear_answer("/", "GET", response)
    assert f"<code>{error}</code>" in text_of(response)


def _signed_in_with_client(browser: Browser, make_user: Any,
                           make_client: Any) -> RegisteredClient:
    client = make_client(post_logout_redirect_uris=[RP_BYE])
    assert browser.login(make_user()).status_code == 303
    return client


def _authorize(browser: Browser, client: RegisteredClient, **params: str) -> Any:
    query = {"response_type": "code", "client_id": client.client_id,
             "redirect_uri": client.redirect_uri, "scope": "openid profile", "state": "st-odd",
             "nonce": "n-odd", "code_challenge": "c" * 43, "code_challenge_method": "S256"}
    query.update(params)
    return browser.client.get("/authorize?" + urlencode(query))


def _redirected_error(response: Any, client: RegisteredClient) -> dict[str, list[str]]:
    assert response.status_code == 302, re.findall(r"<code>.*?</p>", text_of(response))
    location = response.headers["Location"]
    assert location.split("?", 1)[0] == client.redirect_uri
    return parse_qs(urlsplit(location).query)


ODD_REDIRECT_URIS = {
    "double_quote": RP_CALLBACK + '/"evil',
    "backslash": RP_CALLBACK + "\\evil",
    "non_ascii": "https://例子.example/回调",
    "tab_cr_lf": RP_CALLBACK + "/\t\r\nevil",
    "control_character": RP_CALLBACK + "/\x01evil",
}
ODD_RESPONSE_TYPES = {
    "double_quote": 'code"', "backslash": "code\\", "non_ascii": "代码", "tab_cr_lf": "code\t\r\n",
    "control_character": "code\x7f", "four_kib": "c" * 4096,
}


@pytest.mark.parametrize("redirect_uri", ODD_REDIRECT_URIS.values(), ids=ODD_REDIRECT_URIS.keys())
def test_odd_characters_in_an_unregistered_redirect_uri_get_a_400_page_never_a_redirect(
        browser, make_user, make_client, redirect_uri):
    client = _signed_in_with_client(browser, make_user, make_client)
    assert_refused_page(_authorize(browser, client, redirect_uri=redirect_uri), "invalid_request")


@pytest.mark.parametrize("response_type", ODD_RESPONSE_TYPES.values(),
                         ids=ODD_RESPONSE_TYPES.keys())
def test_odd_characters_in_response_type_get_a_400_page_never_a_redirect(
        browser, make_user, make_client, response_type):
    client = _signed_in_with_client(browser, make_user, make_client)
    assert_refused_page(_authorize(browser, client, response_type=response_type),
                        "invalid_request")


MALFORMED_BASIC = {
    "not_base64": ("Basic !!!not-base64!!!", 401, "invalid_client"),
    "non_ascii": (_latin1("Basic 中文凭据"), 401, "invalid_client"),
    "base64_of_invalid_utf8": ("Basic " + _b64(b"\xff\xfe:\xc3("), 401, "invalid_client"),
    "no_colon": ("Basic " + _b64(b"client-without-secret"), 401, "invalid_client"),
    "empty_client_id": ("Basic " + _b64(b":secret"), 401, "invalid_client"),
    "scheme_alone": ("Basic", 401, "invalid_client"),
    "quotes_in_the_client_id": ("Basic " + _b64(b'cli"ent\\:secret'), 401, "invalid_client"),
    "invalid_percent_encoding": ("Basic " + _b64(b"%zz%e4%b8:secret"), 401, "invalid_client"),
    "nul_inside_the_credentials": ("Basic " + _b64(b"client\x00id:secret"), 401,
                                   "invalid_client"),
    "nul_in_the_header": ("Basic abc\x00def", 400, "invalid_request"),
}
TOKEN_SIDE_FORMS = {"/token": {"grant_type": "client_credentials"},
                    "/revoke": {"token": "some-token"},
                    "/introspect": {"token": "some-token"}}


@pytest.mark.parametrize("endpoint", TOKEN_SIDE_FORMS)
@pytest.mark.parametrize(("header", "status", "error"), MALFORMED_BASIC.values(),
                         ids=MALFORMED_BASIC.keys())
def test_malformed_basic_credentials_are_an_rfc_error_never_a_server_error(
        app, endpoint, header, status, error):
    response = app.test_client().post(endpoint, data=TOKEN_SIDE_FORMS[endpoint],
                                      environ_overrides={"HTTP_AUTHORIZATION": header})
    assert response.status_code == status
    assert error_code_of(response) == error
    if status == 401:  # RFC 6749 §5.2: the challenge of the scheme the client tried
        assert response.headers["WWW-Authenticate"].startswith("Basic ")


ODD_HINTS = {
    "double_quote": ('access_token"', "invalid_request"),
    "backslash": ("refresh\\token", "invalid_request"),
    "non_ascii": ("访问令牌", "invalid_request"),
    "five_kilobytes": ("h" * 5 * 1024, "invalid_request"),
    "unknown_type": ("id_token", "unsupported_token_type"),
}


@pytest.mark.parametrize("endpoint", ["/revoke", "/introspect"])
@pytest.mark.parametrize(("hint", "error"), ODD_HINTS.values(), ids=ODD_HINTS.keys())
def test_an_odd_token_type_hint_is_a_400_rfc_error(app, make_client, endpoint, hint, error):
    client = make_client()
    response = app.test_client().post(endpoint, data={"token": "some-token",
                                                      "token_type_hint": hint},
                                      auth=(client.client_id, client.client_secret))
    assert response.status_code == 400
    assert error_code_of(response) == error


@pytest.fixture(scope="module")
def client_key() -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": "rp-key-1", "alg": "RS256"},
                               private=True)


def _assertion(key: RSAKey, client_id: str, aud: str, kid: str) -> str:
    now = int(time.time())
    claims = {"iss": client_id, "sub": client_id, "aud": aud, "iat": now, "exp": now + 60,
              "jti": uuid.uuid4().hex}
    return jwt.encode({"alg": "RS256", "kid": kid}, claims, key, algorithms=["RS256"])


ODD_KIDS = {"double_quote": 'rp"key', "backslash": "rp\\key", "non_ascii": "钥匙",
            "all_of_them": "\"'\\钥匙\u202e"}
GARBAGE_ASSERTIONS = {
    "plain_text": "garbage",
    "three_dots_of_nothing": "a.b.c",
    "empty_json_parts": "e30.e30.",
    "alg_none": _b64url(b'{"alg":"none"}') + "." + _b64url(b'{"iss":"x","sub":"x"}') + ".",
    "header_not_json": _b64url(b"\xff\xfe{") + ".e30.c2ln",
    "odd_kid_and_bad_signature": _b64url(json.dumps({"alg": "RS256", "kid": "\"'\\钥"}).encode())
    + "." + _b64url(b'{"iss":"x","sub":"x","aud":"x","exp":9999999999}') + ".c2ln",
    "five_kilobytes_of_dots": "." * 5 * 1024,
}


@pytest.mark.parametrize("endpoint", ["/token", "/revoke", "/introspect"])
@pytest.mark.parametrize("kid", ODD_KIDS.values(), ids=ODD_KIDS.keys())
def test_a_client_assertion_whose_kid_has_odd_characters_is_invalid_client(
        app, make_client, client_key, endpoint, kid):
    client = make_client(auth_method="private_key_jwt",
                         jwks={"keys": [client_key.as_dict(private=False)]})
    issuer = app.extensions["idp.settings"].issuer
    response = app.test_client().post(endpoint, data={
        **TOKEN_SIDE_FORMS[endpoint], "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": _assertion(client_key, client.client_id, issuer + endpoint, kid)})
    assert response.status_code == 400
    assert error_code_of(response) == "invalid_client"


@pytest.mark.parametrize("endpoint", ["/token", "/introspect"])
@pytest.mark.parametrize("assertion", GARBAGE_ASSERTIONS.values(), ids=GARBAGE_ASSERTIONS.keys())
def test_a_garbage_client_assertion_is_invalid_client(app, make_client, client_key, endpoint,
                                                      assertion):
    make_client(auth_method="private_key_jwt", jwks={"keys": [client_key.as_dict(private=False)]})
    response = app.test_client().post(endpoint, data={
        **TOKEN_SIDE_FORMS[endpoint], "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": assertion})
    assert response.status_code == 400
    assert error_code_of(response) == "invalid_client"


def _foreign_token_with_odd_kid(key: RSAKey) -> str:
    claims = {"iss": "https://evil.example", "aud": "x", "azp": "x", "sub": "x",
              "exp": int(time.time()) + 60}
    return jwt.encode({"alg": "RS256", "kid": "\"'\\钥\u202e", "typ": "JWT"}, claims, key,
                      algorithms=["RS256"])


@pytest.mark.parametrize("hint", ["garbage", "a.b.c", "kid_with_quotes", "access_token"])
def test_an_id_token_hint_that_is_not_our_id_token_gets_a_400_page_and_logs_nobody_out(
        app, browser, make_user, make_client, client_key, hint):
    client = make_client(post_logout_redirect_uris=[RP_BYE])
    user = make_user()
    if hint == "access_token":
        value = tokens_for(app, browser, user, client)["access_token"]
    else:
        assert browser.login(user).status_code == 303
        value = _foreign_token_with_odd_kid(client_key) if hint == "kid_with_quotes" else hint
    response = browser.client.get("/logout", query_string={
        "id_token_hint": value, "post_logout_redirect_uri": RP_BYE, "state": "s"})
    assert_refused_page(response, "invalid_request")
    assert browser.client.get("/account").status_code == 200  # still signed in


NON_INTEGERS = {"letters": "abc", "exponent": "1e3", "negative": "-1", "full_width_digits": "１２",
                "superscript_two": "²", "fifty_digits": "9" * 50}


@pytest.mark.parametrize("max_age", NON_INTEGERS.values(), ids=NON_INTEGERS.keys())
def test_a_non_integer_max_age_is_redirected_as_invalid_request(browser, make_user, make_client,
                                                                max_age):
    client = _signed_in_with_client(browser, make_user, make_client)
    params = _redirected_error(_authorize(browser, client, max_age=max_age), client)
    assert params["error"] == ["invalid_request"]
    assert params["state"] == ["st-odd"]


@pytest.mark.parametrize("acr_values", NON_INTEGERS.values(), ids=NON_INTEGERS.keys())
def test_a_non_integer_acr_value_is_an_unmet_requirement_redirected_to_the_client(
        browser, make_user, make_client, acr_values):
    """Values that name no level are ignored; with nothing left that the account can meet,
    the answer is unmet_authentication_requirements (docs/integration-guide.md)."""
    client = _signed_in_with_client(browser, make_user, make_client)
    params = _redirected_error(_authorize(browser, client, acr_values=acr_values), client)
    assert params["error"] == ["unmet_authentication_requirements"]
    assert params["state"] == ["st-odd"]


def _nested(depth: int) -> str:
    """An essential acr whose `values` are arrays nested `depth` deep."""
    return '{"id_token":{"acr":{"values":' + "[" * depth + '"2"' + "]" * depth + "}}}"


ODD_CLAIMS = {
    "four_levels": _nested(4),
    "hundred_levels": _nested(100),
    "five_hundred_levels": _nested(500),
    "nine_hundred_ninety_levels": _nested(990),
    "two_thousand_levels": _nested(2000),
    "ten_thousand_nested_arrays": _nested(10_000),
    "ten_thousand_unclosed_arrays": "[" * 10_000,
    "nested_objects": '{"id_token":{"name":' + '{"a":' * 600 + "1" + "}" * 600 + "}}",
    "one_mebibyte": '{"id_token":{"name":{"essential":true,"x":"' + "x" * 1024 * 1024 + '"}}}',
}


@pytest.mark.parametrize("claims", ODD_CLAIMS.values(), ids=ODD_CLAIMS.keys())
def test_deep_or_huge_claims_are_redirected_as_invalid_request(browser, make_user, make_client,
                                                               claims):
    client = _signed_in_with_client(browser, make_user, make_client)
    params = _redirected_error(_authorize(browser, client, claims=claims), client)
    assert params["error"] == ["invalid_request"]


HOSTILE_NEXT = {
    "crlf_header_injection": "/\r\nSet-Cookie: injected=1",
    "crlf_before_a_host": "\r\n//evil.example",
    "tab_inside_double_slash": "/\t/evil.example",
    "leading_tab": "\t//evil.example",
    "newline_inside_a_path": "/account\n/evil",
    "encoded_crlf": "/%0d%0aSet-Cookie:%20injected=1",
    "backslash_host": "/\\evil.example",
    "double_slash": "//evil.example",
    "absolute_url": "https://evil.example/",
}


def _assert_goes_home_without_injection(response: Any) -> None:
    assert response.status_code == 303, error_of(response)
    assert response.headers["Location"] == "/"
    assert all("injected" not in value for _, value in response.headers.items())


@pytest.mark.parametrize("next_url", HOSTILE_NEXT.values(), ids=HOSTILE_NEXT.keys())
def test_a_hostile_next_on_login_goes_home(browser, make_user, next_url):
    _assert_goes_home_without_injection(browser.login(make_user(), next_url=next_url))


@pytest.mark.parametrize("next_url", HOSTILE_NEXT.values(), ids=HOSTILE_NEXT.keys())
def test_a_hostile_next_on_the_language_switch_goes_home(browser, next_url):
    _assert_goes_home_without_injection(
        browser.client.get("/lang/en", query_string={"next": next_url}))


@pytest.mark.parametrize("next_url", HOSTILE_NEXT.values(), ids=HOSTILE_NEXT.keys())
def test_a_hostile_next_on_registration_goes_home(browser, sms_platform, next_url):
    phone = f"137{uuid.uuid4().int % 10**8:08d}"
    page = browser.client.get("/register", query_string={"next": next_url})
    token = csrf_from(text_of(browser.client.get("/login")))
    sent = browser.client.post("/register", data={"p-csrf_token": token, "step": "send",
                                                  "p-phone": phone, "p-next": next_url,
                                                  **solve_captcha(browser.client.application,
                                                                  text_of(page))})
    assert sent.status_code == 200, error_of(sent)
    created = browser.client.post("/register", data={
        "r-csrf_token": token, "step": "create", "r-code": last_code(sms_platform, phone,
                                                                     "register"),
        "r-password": "Spring-Rain-2026", "r-confirm": "Spring-Rain-2026", "r-name": "李四",
        "r-agree": "y", "r-next": next_url})
    _assert_goes_home_without_injection(created)


@pytest.mark.parametrize("next_url", HOSTILE_NEXT.values(), ids=HOSTILE_NEXT.keys())
def test_a_hostile_next_on_the_second_step_goes_home(app, browser, make_user, sms_platform,
                                                     next_url):
    user = make_user()
    assert browser.login(user).status_code == 303
    assert send_mfa_sms(browser, next_url).status_code == 200
    code = last_code(sms_platform, user.phone or "", "mfa")
    _assert_goes_home_without_injection(second_factor(browser, "sms", code, next_url))


@pytest.mark.parametrize("field", ["identifier", "password", "both"])
def test_nul_in_the_login_form_is_refused_before_any_account_is_looked_up(browser, make_user,
                                                                          field):
    user = make_user()
    identifier = user.username + ("\x00" if field in ("identifier", "both") else "")
    password = user.password + ("\x00" if field in ("password", "both") else "")
    token = csrf_from(text_of(browser.client.get("/login")))
    response = browser.client.post("/login", data={"csrf_token": token,
                                                   "identifier": identifier,
                                                   "password": password})
    assert_refused_page(response, "invalid_request")
    assert audit_events(Tag.LOGIN_FAILURE.value) == []
    assert browser.client.get_cookie("idp_sso") is None


# --- 3. refresh under concurrency, over real HTTP ---
def race(server: LiveServer, client: RegisteredClient,
         refresh_tokens: list[str]) -> list[tuple[int, dict[str, Any]]]:
    """POST every refresh at once (a barrier releases the threads together)."""
    barrier = threading.Barrier(len(refresh_tokens))

    def refresh_one(refresh_token: str) -> tuple[int, dict[str, Any]]:
        with requests.Session() as http:
            barrier.wait(timeout=30)
            answer = http.post(server.url + "/token", timeout=60,
                               data={"grant_type": "refresh_token",
                                     "refresh_token": refresh_token},
                               auth=(client.client_id, client.client_secret or ""))
            assert answer.headers["Content-Type"] == "application/json", answer.text[:300]
            return answer.status_code, answer.json()

    with ThreadPoolExecutor(max_workers=len(refresh_tokens)) as pool:
        return list(pool.map(refresh_one, refresh_tokens))


def test_concurrent_refreshes_never_fail_and_a_raced_token_has_exactly_one_winner(
        app, browser, make_user, make_client, live_provider):
    """Sixteen refreshes released together: eight grants refreshing their own token, and eight
    requests racing one token of a ninth grant. Each own refresh succeeds; of the racers
    exactly one wins and the others get invalid_grant; nothing answers 5xx ("database is
    locked" on SQLite); the race counts as a replay and revokes the raced grant."""
    user, client = make_user(), make_client()
    own = [tokens_for(app, browser, user, client)["refresh_token"] for _ in range(8)]
    raced = tokens_for(app, browser, user, client)["refresh_token"]
    answers = race(live_provider, client, [*own, *[raced] * 8])
    mine, racers = answers[:8], answers[8:]
    assert [status for status, _ in mine] == [200] * 8, mine
    assert len({body["refresh_token"] for _, body in mine} - set(own)) == 8
    winners = [body for status, body in racers if status == 200]
    losers = [(status, body["error"]) for status, body in racers if status != 200]
    assert len(winners) == 1, racers
    assert losers == [(400, "invalid_grant")] * 7
    # The replay revoked the raced grant (RFC 9700 §4.14.2): the winner's new token is dead.
    again = app.test_client().post("/token", data={
        "grant_type": "refresh_token", "refresh_token": winners[0]["refresh_token"]},
        auth=(client.client_id, client.client_secret))
    assert (again.status_code, error_code_of(again)) == (400, "invalid_grant")
    # Replays write too (the grant's revocation, the audit row): sixteen at once, three times.
    for _round in range(3):
        replays = race(live_provider, client, [raced] * 8 + [winners[0]["refresh_token"]] * 8)
        assert [(status, body["error"]) for status, body in replays] == \
            [(400, "invalid_grant")] * 16
