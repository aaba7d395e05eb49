"""A lost store (Redis restarted without persistence, keys evicted) never undoes a security
decision: revocations, refresh-reuse revocations and locks live in the database, and the
store is at most a cache of them. Losing everything the store holds is `Store.flush()`.
"""

from __future__ import annotations

from idp.extensions import get_store
from tests.conftest import Browser
from tests.integration.citizens import (
    LOCKED_RE,
    clear_wait,
    error_of,
    lock_subject,
)
from tests.integration.helpers import (
    introspect,
    offline_tokens_for,
    refresh,
    revoke,
    tokens_for,
)

INACTIVE = {"active": False}


def _lose_the_store(app) -> None:
    get_store(app).flush()


def test_a_revoked_access_token_stays_inactive_after_the_store_is_lost(app, browser, make_user,
                                                                       make_client):
    # An offline grant (OIDC Core §11): an online one would end with the lost SSO session.
    user, client = make_user(), make_client(scope="openid profile offline_access")
    tokens = offline_tokens_for(app, browser, user, client)
    assert revoke(app, client, tokens["access_token"]).status_code == 200
    _lose_the_store(app)
    assert introspect(app, client, tokens["access_token"]).json == INACTIVE
    userinfo = app.test_client().get(
        "/userinfo", headers={"Authorization": "Bearer " + tokens["access_token"]})
    assert userinfo.status_code == 401 and userinfo.json["error"] == "invalid_token"
    # the refresh token of the same grant was not revoked, and still works
    assert refresh(app, client, tokens["refresh_token"]).status_code == 200


def test_losing_the_store_ends_online_refresh_tokens_with_their_sessions(
        app, browser, make_user, make_client):
    """An online refresh token is tied to its SSO session, which lives in the store: a lost
    store ends both (it fails closed)."""
    user, client = make_user(), make_client()
    tokens = tokens_for(app, browser, user, client)
    _lose_the_store(app)
    assert refresh(app, client, tokens["refresh_token"]).json["error"] == "invalid_grant"


def test_access_tokens_of_a_revoked_grant_stay_inactive_after_the_store_is_lost(
        app, browser, make_user, make_client):
    user, client = make_user(), make_client()
    tokens = tokens_for(app, browser, user, client)
    assert revoke(app, client, tokens["refresh_token"]).status_code == 200
    _lose_the_store(app)
    assert introspect(app, client, tokens["access_token"]).json == INACTIVE
    userinfo = app.test_client().get(
        "/userinfo", headers={"Authorization": "Bearer " + tokens["access_token"]})
    assert userinfo.status_code == 401


def test_refresh_reuse_revokes_the_grant_for_good(app, browser, make_user, make_client):
    user, client = make_user(), make_client()
    tokens = tokens_for(app, browser, user, client)
    second = refresh(app, client, tokens["refresh_token"]).json
    assert refresh(app, client, tokens["refresh_token"]).json["error"] == "invalid_grant"
    _lose_the_store(app)
    assert introspect(app, client, second["access_token"]).json == INACTIVE
    assert refresh(app, client, second["refresh_token"]).json["error"] == "invalid_grant"


def _wrong(app, user) -> str | None:
    browser = Browser(app.test_client())
    return error_of(browser.login(user, password="Wrong-Horse-1"))


def test_a_lock_survives_the_loss_of_the_store(app, make_user):
    user = make_user()
    subject = lock_subject(app, user)
    told = []
    for _ in range(5):
        told.append(_wrong(app, user))
        clear_wait(app, subject)
    assert LOCKED_RE.match(told[-1] or "")
    _lose_the_store(app)
    right = Browser(app.test_client()).login(user)
    assert right.status_code == 400 and LOCKED_RE.match(error_of(right) or "")


def test_a_lost_store_does_not_restart_the_failure_count(app, make_user):
    user = make_user()
    subject = lock_subject(app, user)
    for _ in range(3):
        _wrong(app, user)
        clear_wait(app, subject)
    _lose_the_store(app)
    _wrong(app, user)
    clear_wait(app, subject)
    assert LOCKED_RE.match(_wrong(app, user) or "")  # the fifth failure, counted across


def test_a_used_client_assertion_stays_used_after_the_store_is_lost(app, make_client):
    import time
    import uuid

    from joserfc import jwt
    from joserfc.jwk import RSAKey

    key = RSAKey.generate_key(2048, parameters={"kid": "rp-1", "alg": "RS256"}, private=True)
    client = make_client(auth_method="private_key_jwt",
                         jwks={"keys": [key.as_dict(private=False)]})
    now = int(time.time())
    assertion = jwt.encode({"alg": "RS256", "kid": "rp-1"}, {
        "iss": client.client_id, "sub": client.client_id, "iat": now, "exp": now + 60,
        "aud": app.extensions["idp.settings"].issuer + "/token", "jti": uuid.uuid4().hex},
        key, algorithms=["RS256"])

    def use():
        return app.test_client().post("/token", data={
            "grant_type": "client_credentials", "client_assertion": assertion,
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"})

    assert use().status_code == 200
    _lose_the_store(app)
    replayed = use()
    assert replayed.status_code in (400, 401) and replayed.json["error"] == "invalid_client"
