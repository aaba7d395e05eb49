"""The hot paths below Flask (idp/oauth/hotpath.py, ADR 0012) answer exactly as the application
would, and only when the request is of the common shape and succeeds: every other request of
those three endpoints reaches the application and gets its answer, unchanged.

Each check sends the same request twice: through the whole provider (hot paths in front) and
to the application behind them, and compares status, headers and body. A counter on the
application tells which of the two answered.
"""

from __future__ import annotations

import base64
import contextlib
import json
import re
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

import pytest
from sqlalchemy import func, select
from werkzeug.test import Client as WsgiClient

from idp.accounts.models import User
from idp.audit.models import AuditEvent
from idp.audit.tags import Tag
from idp.extensions import db
from idp.oauth import hotpath
from idp.oauth.hotpath import HotPaths
from idp.oauth.models import Client, Grant, TokenIssued
from tests.conftest import TestClient as RegisteredClient
from tests.conftest import csrf_from, pkce_pair, token_request
from tests.integration.helpers import revoke, tokens_for

VOLATILE_HEADERS = {"Content-Length", "Date", "Server"}  # headers compare in any order


class Counted:
    """The application behind the hot paths, counting the requests that reach it."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.calls = 0

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        self.calls += 1
        return self.app(environ, start_response)


@pytest.fixture
def hot(app, monkeypatch) -> HotPaths:
    layer = app.wsgi_app
    while not isinstance(layer, HotPaths):
        layer = layer.app
    monkeypatch.setattr(layer, "app", Counted(layer.app))
    return layer


def send(wsgi: Any, method: str, path: str, **kwargs: Any) -> tuple[int, list[tuple[str, str]],
                                                                     bytes]:
    """The answer of `wsgi` (status, headers in order of name, body), sent with exactly the
    cookies in `headers`."""
    response = WsgiClient(wsgi, use_cookies=False).open(path, method=method,
                                                       base_url="http://127.0.0.1", **kwargs)
    headers = sorted((k, v) for k, v in response.headers.items() if k not in VOLATILE_HEADERS)
    return response.status_code, headers, response.get_data()


def comparable(answer: Any) -> Any:
    """Status and headers, with a code in a Location elided (each request gets its own)."""
    status, headers, _body = answer
    return status, [(k, re.sub(r"([?&]code=)[^&]+", r"\1…", v) if k == "Location" else v)
                    for k, v in headers]


def basic(client: RegisteredClient, secret: str | None = None) -> dict[str, str]:
    pair = f"{client.client_id}:{secret or client.client_secret}".encode()
    return {"Authorization": "Basic " + base64.b64encode(pair).decode()}


def answered_above(hot: HotPaths, method: str, path: str, **kwargs: Any) -> Any:
    """The answer through the provider, asserting the application (not a hot path) gave it,
    and that it is what the application alone answers to the same request."""
    before = hot.app.calls
    through = send(hot, method, path, **kwargs)
    assert hot.app.calls == before + 1, f"a hot path answered {method} {path} {kwargs}"
    alone = send(hot.app.app, method, path, **kwargs)
    assert comparable(through) == comparable(alone)
    return through


def answered_below(hot: HotPaths, method: str, path: str, **kwargs: Any) -> Any:
    before = hot.app.calls
    through = send(hot, method, path, **kwargs)
    assert hot.app.calls == before, f"the application answered {method} {path}"
    return through


@pytest.fixture
def tokens(app, browser, make_user, make_client) -> tuple[RegisteredClient, dict[str, Any]]:
    user, client = make_user(name="王五", phone="13800138123"), make_client()
    return client, tokens_for(app, browser, user, client, scope="openid profile phone")


def test_userinfo_answer_below_flask_is_byte_for_byte_the_applications(hot, tokens):
    _client, issued = tokens
    headers = {"Authorization": "Bearer " + issued["access_token"]}
    below = answered_below(hot, "GET", "/userinfo", headers=headers)
    alone = send(hot.app.app, "GET", "/userinfo", headers=headers)
    assert below == alone
    assert json.loads(below[2])["phone_number"] == "+8613800138123"


def test_introspection_answer_below_flask_is_byte_for_byte_the_applications(hot, tokens):
    client, issued = tokens
    data = {"token": issued["access_token"]}
    below = answered_below(hot, "POST", "/introspect", headers=basic(client), data=data)
    alone = send(hot.app.app, "POST", "/introspect", headers=basic(client), data=data)
    assert below == alone
    assert json.loads(below[2])["active"] is True


def test_client_credentials_below_flask_matches_the_application_and_records_the_issue(
        app, hot, provider, make_client):
    client = make_client(scope="openid profile")
    data = {"grant_type": "client_credentials", "scope": "openid profile"}

    def issued() -> int:
        db.session.expire_all()
        return int(db.session.scalar(select(func.count()).select_from(TokenIssued)
                                     .where(TokenIssued.client_id == client.client_id)))

    below = answered_below(hot, "POST", "/token", headers=basic(client), data=data)
    assert issued() == 1
    alone = send(hot.app.app, "POST", "/token", headers=basic(client), data=data)
    assert issued() == 2
    assert (below[0], below[1]) == (alone[0], alone[1])
    mine, theirs = json.loads(below[2]), json.loads(alone[2])
    assert list(mine) == list(theirs) and mine["scope"] == theirs["scope"] == "profile"
    claims = provider.tokens.check_access_token(mine["access_token"]).claims
    other = provider.tokens.check_access_token(theirs["access_token"]).claims
    assert set(claims) == set(other)
    assert {k: claims[k] for k in ("sub", "aud", "client_id", "scope", "iss")} == \
        {k: other[k] for k in ("sub", "aud", "client_id", "scope", "iss")}
    record = db.session.scalars(select(TokenIssued).where(
        TokenIssued.jti == claims["jti"])).one()
    assert (record.grant_type, record.user_id, record.grant_id, record.scope) == \
        ("client_credentials", None, None, "profile")


def test_every_other_userinfo_request_is_the_applications(hot, tokens, app, make_client):
    client, issued = tokens
    token = issued["access_token"]
    service = make_client(scope="openid profile")
    no_person = token_request(app, service, grant_type="client_credentials", scope="profile")
    variants: list[dict[str, Any]] = [
        {},
        {"headers": {"Authorization": "Bearer"}},
        {"headers": {"Authorization": "Bearer " + token[:-3] + "abc"}},
        {"headers": {"Authorization": "Bearer " + token + "\x01"}},
        {"headers": {"Authorization": "Basic " + token}},
        {"headers": {"Authorization": "Bearer " + token, "X-Odd": "a\x7fb"}},
        {"headers": {"Authorization": "Bearer " + token}, "query_string": "x=1"},
        {"headers": {"Authorization": "Bearer " + token}, "data": {"access_token": token}},
        {"headers": {"Authorization": "Bearer " + no_person.json["access_token"]}},
    ]
    for variant in variants:
        answered_above(hot, "GET", "/userinfo", **variant)
    assert revoke(app, client, token).status_code == 200
    status, _headers, _body = answered_above(hot, "GET", "/userinfo",
                                             headers={"Authorization": "Bearer " + token})
    assert status == 401


def test_every_other_introspection_request_is_the_applications(hot, tokens, app, make_client):
    client, issued = tokens
    token = issued["access_token"]
    stranger = make_client()
    variants: list[dict[str, Any]] = [
        {"headers": basic(client), "data": {}},
        {"headers": basic(client), "data": {"token": issued["refresh_token"]}},
        {"headers": basic(client), "data": {"token": token,
                                            "token_type_hint": "refresh_token"}},
        {"headers": basic(client), "data": {"token": token, "token_type_hint": "other"}},
        {"headers": basic(client), "data": {"token": token, "client_id": client.client_id}},
        {"headers": basic(client, "wrong-secret"), "data": {"token": token}},
        {"headers": basic(stranger), "data": {"token": token}},
        {"data": {"token": token, "client_id": client.client_id,
                  "client_secret": client.client_secret or ""}},
        {"headers": basic(client), "data": {"token": token}, "query_string": "token=x"},
        {"headers": basic(client), "data": json.dumps({"token": token}),
         "content_type": "application/json"},
        {"headers": {"Authorization": "Basic !!!"}, "data": {"token": token}},
    ]
    for variant in variants:
        answered_above(hot, "POST", "/introspect", **variant)
    assert revoke(app, client, token).status_code == 200
    status, _headers, body = answered_above(hot, "POST", "/introspect", headers=basic(client),
                                            data={"token": token})
    assert (status, json.loads(body)) == (200, {"active": False})


def test_every_other_token_request_is_the_applications(hot, app, make_client):
    client = make_client(scope="openid profile")
    no_cc = make_client(grant_types=["authorization_code", "refresh_token"])
    cc = {"grant_type": "client_credentials"}
    variants: list[dict[str, Any]] = [
        {"headers": basic(client), "data": {**cc, "scope": "openid admin"}},
        {"headers": basic(client), "data": {**cc, "scope": "profile", "resource": "x"}},
        {"headers": basic(client, "wrong-secret"), "data": cc},
        {"headers": basic(no_cc), "data": cc},
        {"headers": basic(client), "data": {"grant_type": "refresh_token",
                                            "refresh_token": "abc"}},
        {"data": {**cc, "client_id": client.client_id,
                  "client_secret": client.client_secret or ""}},
        {"headers": basic(client), "data": cc, "query_string": "a=b"},
    ]
    for variant in variants:
        answered_above(hot, "POST", "/token", **variant)
    db.session.execute(Client.__table__.update().where(Client.client_id == client.client_id)
                       .values(disabled=True))
    db.session.commit()
    app.extensions["idp.provider"].clients.forget()
    status, _headers, _body = answered_above(hot, "POST", "/token", headers=basic(client),
                                             data=cc)
    assert status == 401


def test_a_database_that_fails_below_flask_leaves_the_answer_to_the_application(
        hot, tokens, monkeypatch):
    _client, issued = tokens

    def broken(engine: Any) -> Any:
        raise ConnectionError("database gone")

    monkeypatch.setattr("idp.oauth.hotpath.raw_connection", broken)
    status, _headers, _body = answered_above(
        hot, "GET", "/userinfo", headers={"Authorization": "Bearer " + issued["access_token"]})
    assert status == 200


def refresh_form(value: str, **extra: str) -> dict[str, str]:
    return {"grant_type": "refresh_token", "refresh_token": value, **extra}


def test_refresh_below_flask_rotates_as_the_application_does(hot, tokens, provider):
    client, issued = tokens
    below = answered_below(hot, "POST", "/token", headers=basic(client),
                           data=refresh_form(issued["refresh_token"]))
    first = json.loads(below[2])
    alone = send(hot.app.app, "POST", "/token", headers=basic(client),
                 data=refresh_form(first["refresh_token"]))
    second = json.loads(alone[2])
    assert (below[0], below[1]) == (alone[0], alone[1]) and below[0] == 200
    assert list(first) == list(second)
    assert first["scope"] == second["scope"] == "openid profile phone"
    ids = [provider.tokens.decode_id_token(t["id_token"]) for t in (first, second)]
    same = ("sub", "aud", "azp", "acr", "amr", "auth_time", "sid", "iss")
    assert {k: ids[0].get(k) for k in same} == {k: ids[1].get(k) for k in same}
    accesses = [provider.tokens.check_access_token(t["access_token"]).claims
                for t in (first, second)]
    same = ("sub", "aud", "client_id", "scope", "acr", "auth_time", "iss")
    assert {k: accesses[0].get(k) for k in same} == {k: accesses[1].get(k) for k in same}
    # The spent token: its reuse is the application's to answer, and it revokes the grant.
    status, _headers, body = answered_above(hot, "POST", "/token", headers=basic(client),
                                            data=refresh_form(issued["refresh_token"]))
    assert (status, json.loads(body)["error"]) == (400, "invalid_grant")
    status, _headers, _body = answered_above(hot, "POST", "/token", headers=basic(client),
                                             data=refresh_form(second["refresh_token"]))
    assert status == 400


def test_every_other_refresh_request_is_the_applications(hot, app, browser, make_user,
                                                         make_client):
    user, client, stranger = make_user(), make_client(), make_client()

    def fresh() -> str:  # each request may spend its token: each gets its own
        return str(tokens_for(app, browser, user, client, scope="openid")["refresh_token"])

    variants: list[Any] = [
        lambda value: {"headers": basic(stranger), "data": refresh_form(value)},
        lambda value: {"headers": basic(client, "wrong-secret"), "data": refresh_form(value)},
        lambda value: {"headers": basic(client),
                       "data": refresh_form(value, scope="openid profile")},
        lambda value: {"headers": basic(client), "data": refresh_form("x" * 43)},
        lambda value: {"headers": basic(client),
                       "data": refresh_form(value, client_id=client.client_id)},
        lambda value: {"data": refresh_form(value, client_id=client.client_id,
                                            client_secret=client.client_secret or "")},
    ]
    for variant in variants:
        request, twin = variant(fresh()), variant(fresh())
        before = hot.app.calls
        through = send(hot, "POST", "/token", **request)
        assert hot.app.calls == before + 1, f"a hot path answered {request}"
        alone = send(hot.app.app, "POST", "/token", **twin)
        assert (through[0], through[1]) == (alone[0], alone[1])


def test_a_refresh_that_fails_below_flask_spends_nothing(hot, tokens, provider, monkeypatch):
    """The rotation below Flask is one transaction: a failure after the token was spent rolls
    the spend back, so the application rotates the same token instead of seeing a reuse."""
    client, issued = tokens
    real = provider.tokens.id_token
    calls = []

    def fails_once(**kwargs: Any) -> str:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("signing failed")
        return real(**kwargs)

    monkeypatch.setattr(provider.tokens, "id_token", fails_once)
    before = hot.app.calls
    status, _headers, body = send(hot, "POST", "/token", headers=basic(client),
                                  data=refresh_form(issued["refresh_token"]))
    assert hot.app.calls == before + 1 and len(calls) == 2
    assert status == 200 and "refresh_token" in json.loads(body)


def test_a_refresh_whose_commit_fails_is_answered_503_and_not_tried_again(
        hot, tokens, app, monkeypatch):
    """A commit (on PostgreSQL: the one statement that spends and writes) that raises may
    have committed: the application must not rotate the token again (it would take its own
    spend for a reuse and revoke the grant), so it answers the error, as for any lost store."""
    client, issued = tokens
    real = hotpath.raw_connection

    class WritesThenFails:
        """Whatever makes the rotation durable (the COMMIT; on PostgreSQL the one statement
        that spends and writes) succeeds, and then the connection is lost."""

        def __init__(self, wrapped: Any) -> None:
            self.wrapped = wrapped

        def commit(self) -> None:
            self.wrapped.commit()
            raise ConnectionError("connection lost after COMMIT was sent")

        def cursor(self) -> Any:
            return WritesThenFails(self.wrapped.cursor())

        def execute(self, sql: str, params: Any) -> None:
            self.wrapped.execute(sql, params)
            if sql.lstrip().startswith("WITH claimed"):
                raise ConnectionError("connection lost after the statement was sent")

        def __getattr__(self, name: str) -> Any:
            return getattr(self.wrapped, name)

    @contextlib.contextmanager
    def losing_commits(engine: Any, autocommit: bool = True) -> Any:
        with real(engine, autocommit) as connection:
            yield WritesThenFails(connection)

    monkeypatch.setattr(hotpath, "raw_connection", losing_commits)
    before = hot.app.calls
    status, _headers, body = send(hot, "POST", "/token", headers=basic(client),
                                  data=refresh_form(issued["refresh_token"]))
    assert hot.app.calls == before + 1
    assert status == 503 and json.loads(body)["error"] == "temporarily_unavailable"
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.tag == Tag.REFRESH_REUSED.value)) == 0


def code_form(client: RegisteredClient, code: str, verifier: str, **extra: str) -> dict[str, str]:
    return {"grant_type": "authorization_code", "code": code, "code_verifier": verifier,
            "redirect_uri": client.redirect_uri, **extra}


@pytest.fixture
def codes(browser, make_user, make_client) -> Any:
    user, client = make_user(name="赵六"), make_client()
    browser.login(user)
    return client, lambda: browser.code_for(client, scope="openid profile", nonce="n-1")


def grants_of(client: RegisteredClient) -> int:
    db.session.expire_all()
    return int(db.session.scalar(select(func.count()).select_from(Grant)
                                 .where(Grant.client_id == client.client_id)))


def test_code_exchange_below_flask_matches_the_application(hot, codes, provider):
    client, new_code = codes
    below = answered_below(hot, "POST", "/token", headers=basic(client),
                           data=code_form(client, *new_code()))
    alone = send(hot.app.app, "POST", "/token", headers=basic(client),
                 data=code_form(client, *new_code()))
    assert (below[0], below[1]) == (alone[0], alone[1]) and below[0] == 200
    mine, theirs = json.loads(below[2]), json.loads(alone[2])
    assert list(mine) == list(theirs) == ["access_token", "expires_in", "id_token",
                                          "refresh_token", "scope", "token_type"]
    ids = [provider.tokens.decode_id_token(t["id_token"]) for t in (mine, theirs)]
    assert set(ids[0]) == set(ids[1]) and ids[0]["nonce"] == "n-1"
    same = ("sub", "aud", "azp", "acr", "amr", "auth_time", "sid", "iss", "nonce")
    assert {k: ids[0][k] for k in same} == {k: ids[1][k] for k in same}
    assert grants_of(client) == 2
    # The tokens work: the refresh token rotates, the access token reads UserInfo.
    assert send(hot, "POST", "/token", headers=basic(client),
                data=refresh_form(mine["refresh_token"]))[0] == 200
    assert send(hot, "GET", "/userinfo",
                headers={"Authorization": "Bearer " + mine["access_token"]})[0] == 200


def test_every_other_code_exchange_is_the_applications(hot, codes, app, browser, make_user,
                                                       make_client):
    client, new_code = codes
    stranger = make_client()
    variants: list[Any] = [
        lambda code, verifier: {"headers": basic(client),
                                "data": code_form(client, code, "v" * 43)},
        lambda code, verifier: {"headers": basic(client), "data": code_form(
            client, code, verifier, redirect_uri="https://rp.example.gov.cn/other")},
        lambda code, verifier: {"headers": basic(stranger),
                                "data": code_form(stranger, code, verifier)},
        lambda code, verifier: {"headers": basic(client, "wrong-secret"),
                                "data": code_form(client, code, verifier)},
        lambda code, verifier: {"headers": basic(client), "data": code_form(
            client, code, verifier, client_id=client.client_id)},
        lambda code, verifier: {"headers": basic(client),
                                "data": {k: v for k, v in code_form(client, code, verifier)
                                         .items() if k != "code_verifier"}},
        lambda code, verifier: {"headers": basic(client),
                                "data": code_form(client, "c" * 43, verifier)},
    ]
    for variant in variants:
        request, twin = variant(*new_code()), variant(*new_code())
        before = hot.app.calls
        through = send(hot, "POST", "/token", **request)
        assert hot.app.calls == before + 1, f"a hot path answered {request}"
        alone = send(hot.app.app, "POST", "/token", **twin)
        assert (through[0], through[1]) == (alone[0], alone[1])
    # A replayed code is the application's: it revokes what the code produced.
    code, verifier = new_code()
    first = answered_below(hot, "POST", "/token", headers=basic(client),
                           data=code_form(client, code, verifier))
    before = hot.app.calls
    again = send(hot, "POST", "/token", headers=basic(client),
                 data=code_form(client, code, verifier))
    assert hot.app.calls == before + 1 and again[0] == 400
    token = json.loads(first[2])["access_token"]
    assert send(hot, "GET", "/userinfo", headers={"Authorization": "Bearer " + token})[0] == 401


def test_a_code_exchange_of_a_disabled_account_is_the_applications(hot, app, browser,
                                                                   make_user, make_client):
    user, client = make_user(), make_client()
    browser.login(user)
    code, verifier = browser.code_for(client, scope="openid")
    db.session.execute(User.__table__.update().where(User.id == user.id).values(disabled=True))
    db.session.commit()
    before = hot.app.calls
    status, _headers, body = send(hot, "POST", "/token", headers=basic(client),
                                  data=code_form(client, code, verifier))
    assert hot.app.calls == before + 1
    assert (status, json.loads(body)["error"]) == (400, "invalid_grant")


def test_a_code_exchange_that_fails_after_the_code_is_consumed_is_not_tried_again(
        hot, codes, monkeypatch):
    """Once the code is consumed the exchange cannot be handed back: the application answers
    the failure (503 for a lost database), and the code is spent, with nothing half-written."""
    client, new_code = codes
    code, verifier = new_code()

    def lost(*args: Any, **kwargs: Any) -> Any:
        raise ConnectionError("database connection lost")

    monkeypatch.setattr(hotpath._INSERT_GRANT_RAW, "run", lost)  # SQLite
    monkeypatch.setattr(hotpath._CODE_WRITES_PG, "run", lost)  # PostgreSQL
    before = hot.app.calls
    status, _headers, body = send(hot, "POST", "/token", headers=basic(client),
                                  data=code_form(client, code, verifier))
    assert hot.app.calls == before + 1
    assert (status, json.loads(body)["error"]) == (503, "temporarily_unavailable")
    monkeypatch.undo()
    assert grants_of(client) == 0
    status, _headers, body = send(hot, "POST", "/token", headers=basic(client),
                                  data=code_form(client, code, verifier))
    assert (status, json.loads(body)["error"]) == (400, "invalid_grant")


def authorize_query(client: RegisteredClient, **params: str) -> str:
    _verifier, challenge = pkce_pair()
    query = {"response_type": "code", "client_id": client.client_id,
             "redirect_uri": client.redirect_uri, "scope": "openid profile", "state": "st 1",
             "nonce": "n-1", "code_challenge": challenge, "code_challenge_method": "S256"}
    query.update(params)
    return urlencode({k: v for k, v in query.items() if v is not None})


def cookies_of(browser: Any) -> dict[str, str]:
    jar = [browser.client.get_cookie(name) for name in ("idp_sso", "idp_flask")]
    return {"Cookie": "; ".join(f"{c.key}={c.value}" for c in jar if c is not None)}


def without_location(answer: Any) -> Any:
    status, headers, body = answer
    return status, [(k, v) for k, v in headers if k != "Location"], body


def test_authorization_below_flask_answers_as_the_view(hot, browser, make_user, make_client):
    user, client = make_user(), make_client()
    browser.login(user)
    headers = cookies_of(browser)
    below = answered_below(hot, "GET", "/authorize", query_string=authorize_query(client),
                           headers=headers)
    alone = send(hot.app.app, "GET", "/authorize", query_string=authorize_query(client),
                 headers=headers)
    assert without_location(below) == without_location(alone) and below[0] == 302
    locations = [urlparse(dict(a[1])["Location"]) for a in (below, alone)]
    assert [(u.scheme, u.netloc, u.path) for u in locations] == \
        [("https", "rp.example.gov.cn", "/callback")] * 2
    queries = [parse_qs(u.query) for u in locations]
    assert sorted(queries[0]) == sorted(queries[1]) == ["code", "state"]
    assert queries[0]["state"] == ["st 1"]
    # Without the Flask session's cookie (only the SSO one) the answer is the same.
    sso_only = {"Cookie": headers["Cookie"].split("; ")[0]}
    assert sso_only["Cookie"].startswith("idp_sso=")
    below = answered_below(hot, "GET", "/authorize", query_string=authorize_query(client),
                           headers=sso_only)
    alone = send(hot.app.app, "GET", "/authorize", query_string=authorize_query(client),
                 headers=sso_only)
    assert comparable(below) == comparable(alone) and below[0] == 302


def test_a_code_issued_below_flask_is_the_views_code(hot, browser, make_user, make_client,
                                                     provider):
    user, client = make_user(), make_client(scope="openid profile")
    browser.login(user)
    verifier, challenge = pkce_pair()
    status, headers, _body = answered_below(
        hot, "GET", "/authorize", headers=cookies_of(browser),
        query_string=authorize_query(client, code_challenge=challenge, nonce="abc",
                                     scope="openid phone profile admin"))
    code = parse_qs(urlparse(dict(headers)["Location"]).query)["code"][0]
    answer = send(hot.app.app, "POST", "/token", headers=basic(client),
                  data=code_form(client, code, verifier))
    assert answer[0] == 200
    claims = provider.tokens.decode_id_token(json.loads(answer[2])["id_token"])
    assert (claims["sub"], claims["nonce"], claims["acr"]) == (user.id, "abc", "2")
    # Scopes the client is not registered for are dropped, as the view drops them.
    assert json.loads(answer[2])["scope"] == "openid profile"


def test_every_other_authorization_request_is_the_views(hot, app, browser, make_user,
                                                        make_client):
    user, client = make_user(), make_client()
    third_party, strict = make_client(first_party=False), make_client(require_mfa=True)
    browser.login(user)
    logged_in = cookies_of(browser)
    variants: list[tuple[dict[str, str], str]] = [
        ({}, authorize_query(client, prompt="login")),
        ({}, authorize_query(client, prompt="none")),
        ({}, authorize_query(client, max_age="0")),
        ({}, authorize_query(client, acr_values="3")),
        ({}, authorize_query(client, claims='{"id_token":{"acr":null}}')),
        ({}, authorize_query(client, login_hint="someone")),
        ({}, authorize_query(client, ui_locales="en")),
        ({}, authorize_query(client, scope="profile")),
        ({}, authorize_query(client, client_id="c_unknown")),
        ({}, authorize_query(client, redirect_uri="https://rp.example.gov.cn/other")),
        ({}, authorize_query(client, code_challenge=None, code_challenge_method=None)),
        ({}, authorize_query(client, code_challenge_method="plain")),
        ({}, authorize_query(client, response_mode="fragment")),
        ({}, authorize_query(client, state="")),
        ({}, authorize_query(client) + "&state=again"),
        ({}, authorize_query(third_party)),
        ({}, authorize_query(strict)),
        ({"Cookie": ""}, authorize_query(client)),
        ({"Cookie": "idp_sso=forged.value"}, authorize_query(client)),
        ({"Cookie": logged_in["Cookie"].replace("idp_flask=", "idp_flask=x")},
         authorize_query(client)),
    ]
    for cookie, query in variants:
        answered_above(hot, "GET", "/authorize", query_string=query,
                       headers={**logged_in, **cookie})
    # A login asked for by a request (prompt=login) is remembered in the Flask session: the
    # next request is the view's until that login is done.
    browser.client.get("/authorize?" + authorize_query(client, prompt="login"))
    answered_above(hot, "GET", "/authorize", query_string=authorize_query(client),
                   headers=cookies_of(browser))
    # A disabled account's session no longer signs anyone in.
    browser.client.get("/logout")
    browser.login(user)
    headers = cookies_of(browser)
    db.session.execute(User.__table__.update().where(User.id == user.id).values(disabled=True))
    db.session.commit()
    status, answer_headers, _body = answered_above(hot, "GET", "/authorize",
                                                   query_string=authorize_query(client),
                                                   headers=headers)
    assert status == 302 and "/login" in dict(answer_headers)["Location"]


def test_a_consented_third_party_client_is_answered_below_flask(hot, browser, make_user,
                                                                make_client):
    user, client = make_user(), make_client(first_party=False)
    browser.login(user)
    page = browser.client.get("/authorize?" + authorize_query(client))
    assert page.status_code == 200  # the consent page
    browser.client.post("/authorize?" + authorize_query(client), data={
        "decision": "allow", "csrf_token": csrf_from(page.get_data(as_text=True))})
    status, _headers, _body = answered_below(hot, "GET", "/authorize",
                                             query_string=authorize_query(client),
                                             headers=cookies_of(browser))
    assert status == 302
    answered_above(hot, "GET", "/authorize", headers=cookies_of(browser),
                   query_string=authorize_query(client, scope="openid profile phone"))


# --- OIDC Core §11 offline_access: the same rules below Flask as in the view ---
OFFLINE = "openid profile offline_access"


def test_offline_access_is_dropped_below_flask_for_a_first_party_client_as_the_view_drops_it(
        hot, browser, make_user, make_client):
    user, client = make_user(), make_client(scope=OFFLINE)  # first party: no consent page
    browser.login(user)
    scopes = []
    for answered, extra in ((answered_below, {}), (answered_above, {"max_age": "3600"})):
        verifier, challenge = pkce_pair()
        _status, headers, _body = answered(
            hot, "GET", "/authorize", headers=cookies_of(browser),
            query_string=authorize_query(client, code_challenge=challenge, scope=OFFLINE,
                                         **extra))
        code = parse_qs(urlparse(dict(headers)["Location"]).query)["code"][0]
        answer = send(hot.app.app, "POST", "/token", headers=basic(client),
                      data=code_form(client, code, verifier))
        scopes.append(json.loads(answer[2])["scope"])
    assert scopes == ["openid profile"] * 2


def test_offline_access_not_covered_by_a_remembered_consent_is_the_views(
        hot, browser, make_user, make_client):
    user, client = make_user(), make_client(first_party=False, scope=OFFLINE)
    browser.login(user)
    page = browser.client.get("/authorize?" + authorize_query(client))
    browser.client.post("/authorize?" + authorize_query(client), data={
        "decision": "allow", "csrf_token": csrf_from(page.get_data(as_text=True))})
    answered_below(hot, "GET", "/authorize", query_string=authorize_query(client),
                   headers=cookies_of(browser))
    status, _headers, body = answered_above(hot, "GET", "/authorize", headers=cookies_of(browser),
                                            query_string=authorize_query(client, scope=OFFLINE))
    assert status == 200 and b'name="decision"' in body  # the consent page asks for it


def test_an_online_refresh_token_whose_session_ended_is_the_applications(
        hot, app, browser, make_user, make_client):
    from idp.extensions import get_store
    from tests.integration.citizens import sid_of

    user, client = make_user(), make_client()
    online = tokens_for(app, browser, user, client)
    answered_below(hot, "POST", "/token", headers=basic(client),
                   data=refresh_form(online["refresh_token"]))
    second = tokens_for(app, browser, user, client)
    get_store(app).delete("sso:" + sid_of(browser))  # the session expired
    status, _headers, body = answered_above(hot, "POST", "/token", headers=basic(client),
                                            data=refresh_form(second["refresh_token"]))
    assert (status, json.loads(body)["error"]) == (400, "invalid_grant")
