"""Token endpoint errors (RFC 6749 §5.2) and the authorization_code checks of §4.1.3."""

from __future__ import annotations

from tests.conftest import exchange, token_request


def test_unsupported_grant_type(app, make_client):
    response = token_request(app, make_client(), grant_type="password", username="a",
                             password="b")
    assert response.status_code == 400 and response.json["error"] == "unsupported_grant_type"


def test_wrong_client_secret_is_invalid_client_401_with_basic_challenge(app, make_client):
    client = make_client()
    response = app.test_client().post("/token", data={"grant_type": "client_credentials"},
                                      auth=(client.client_id, "wrong"))
    assert response.status_code == 401
    assert response.json["error"] == "invalid_client"
    assert response.headers["WWW-Authenticate"].startswith("Basic")


def test_unknown_client_is_invalid_client(app):
    response = app.test_client().post("/token", data={"grant_type": "client_credentials"},
                                      auth=("nobody", "x"))
    assert response.status_code == 401 and response.json["error"] == "invalid_client"


def test_client_not_allowed_the_grant_is_unauthorized_client(app, make_client):
    client = make_client(grant_types=["authorization_code"])
    response = token_request(app, client, grant_type="client_credentials")
    assert response.status_code == 400 and response.json["error"] == "unauthorized_client"


def test_missing_code_is_invalid_request(app, make_client):
    client = make_client()
    response = token_request(app, client, grant_type="authorization_code",
                             redirect_uri=client.redirect_uri)
    assert response.json["error"] == "invalid_request"


def test_unknown_code_is_invalid_grant(app, make_client):
    client = make_client()
    response = token_request(app, client, grant_type="authorization_code", code="made-up",
                             redirect_uri=client.redirect_uri, code_verifier="x" * 43)
    assert response.status_code == 400 and response.json["error"] == "invalid_grant"


def test_code_is_bound_to_the_redirect_uri(app, browser, make_user, make_client):
    user = make_user()
    client = make_client(redirect_uris=["https://rp.example.gov.cn/a",
                                        "https://rp.example.gov.cn/b"])
    browser.login(user)
    code, verifier = browser.code_for(client)
    response = token_request(app, client, grant_type="authorization_code", code=code,
                             redirect_uri="https://rp.example.gov.cn/b", code_verifier=verifier)
    assert response.json["error"] == "invalid_grant"


def test_code_is_bound_to_the_client(app, browser, make_user, make_client):
    user, client = make_user(), make_client()
    thief = make_client()
    browser.login(user)
    code, verifier = browser.code_for(client)
    response = token_request(app, thief, grant_type="authorization_code", code=code,
                             redirect_uri=client.redirect_uri, code_verifier=verifier)
    assert response.json["error"] == "invalid_grant"
    # RFC 6749 §4.1.3: another client's attempt neither consumes the code nor revokes
    # anything; the client it was issued to still exchanges it once.
    assert exchange(app, client, code, verifier).status_code == 200
    assert exchange(app, client, code, verifier).json["error"] == "invalid_grant"


def test_missing_verifier_when_a_challenge_was_sent_is_invalid_request(app, browser, make_user,
                                                                       make_client):
    user, client = make_user(), make_client()
    browser.login(user)
    code, _ = browser.code_for(client)
    response = token_request(app, client, grant_type="authorization_code", code=code,
                             redirect_uri=client.redirect_uri)
    assert response.json["error"] == "invalid_request"


def test_code_lives_60_seconds_from_issue(app, browser, make_user, make_client):
    user, client = make_user(), make_client()
    browser.login(user)
    store = app.extensions["idp.store"]
    seen = {}
    original = store.set

    def spy(key, value, ttl):
        if key.startswith("code:"):
            seen[key] = ttl
        return original(key, value, ttl)

    store.set = spy
    try:
        browser.code_for(client)
    finally:
        store.set = original
    assert list(seen.values()) == [60]


def test_expired_code_is_invalid_grant(app, browser, make_user, make_client):
    user, client = make_user(), make_client()
    browser.login(user)
    code, verifier = browser.code_for(client)
    from idp.security.crypto import sha256_hex

    app.extensions["idp.store"].delete("code:" + sha256_hex(code))  # what expiry does
    assert exchange(app, client, code, verifier).json["error"] == "invalid_grant"


def test_token_error_responses_are_json_and_not_cached(app, make_client):
    response = token_request(app, make_client(), grant_type="nope")
    assert response.mimetype == "application/json"
    assert response.headers["Cache-Control"] == "no-store"
