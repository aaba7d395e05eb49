"""Helpers shared by the integration tests: code flow, token-side endpoints, key restore."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask
from sqlalchemy import select

from idp.extensions import db
from idp.oauth.models import SigningKey
from tests.conftest import (
    Browser,
    TestClient,
    TestUser,
    csrf_from,
    exchange,
    pkce_pair,
    redirect_params,
)


def tokens_for(app: Flask, browser: Browser, user: TestUser, client: TestClient,
               **params: str) -> dict[str, Any]:
    """Log `user` in, run the code flow with PKCE for a confidential client, return the tokens."""
    browser.login(user)
    code, verifier = browser.code_for(client, **params)
    response = exchange(app, client, code, verifier)
    assert response.status_code == 200, response.json
    return dict(response.json)


def offline_tokens_for(app: Flask, browser: Browser, user: TestUser, client: TestClient,
                       scope: str = "openid profile offline_access") -> dict[str, Any]:
    """Log `user` in and run the code flow for `scope` with offline_access (OIDC Core §11),
    consented to on the consent page (prompt=consent: shown to first-party clients too).
    The client must be registered for offline_access and the refresh_token grant."""
    browser.login(user)
    verifier, challenge = pkce_pair()
    page = browser.authorize(client, scope=scope, prompt="consent", code_challenge=challenge,
                             code_challenge_method="S256")
    assert page.status_code == 200, page.status_code
    allowed = browser.client.post(page.request.full_path, data={
        "csrf_token": csrf_from(page.get_data(as_text=True)), "decision": "allow"})
    code = redirect_params(allowed)["code"]
    response = exchange(app, client, code, verifier)
    assert response.status_code == 200, response.json
    assert "offline_access" in response.json["scope"].split()
    return dict(response.json)


def public_tokens_for(app: Flask, browser: Browser, user: TestUser, client: TestClient,
                      **params: str) -> dict[str, Any]:
    """The code flow for a public client (auth method "none": client_id in the form)."""
    browser.login(user)
    code, verifier = browser.code_for(client, **params)
    response = app.test_client().post("/token", data={
        "grant_type": "authorization_code", "code": code, "client_id": client.client_id,
        "redirect_uri": client.redirect_uri, "code_verifier": verifier})
    assert response.status_code == 200, response.json
    return dict(response.json)


def post_as(app: Flask, path: str, client: TestClient, **data: str) -> Any:
    """POST to a token-side endpoint authenticating with client_secret_basic."""
    return app.test_client().post(path, data=data,
                                  auth=(client.client_id, client.client_secret or ""))


def introspect(app: Flask, client: TestClient, token: str, **data: str) -> Any:
    return post_as(app, "/introspect", client, token=token, **data)


def revoke(app: Flask, client: TestClient, token: str, **data: str) -> Any:
    return post_as(app, "/revoke", client, token=token, **data)


def refresh(app: Flask, client: TestClient, refresh_token: str, **data: str) -> Any:
    return post_as(app, "/token", client, grant_type="refresh_token",
                   refresh_token=refresh_token, **data)


@contextmanager
def signing_keys_restored(provider: Any) -> Iterator[None]:
    """The signing_key table outlives each test: drop keys created inside, restore expiries."""
    db.session.expire_all()
    before = {row.kid: row.expires_at
              for row in db.session.execute(select(SigningKey)).scalars()}
    try:
        yield
    finally:
        db.session.rollback()
        for row in db.session.execute(select(SigningKey)).scalars().all():
            if row.kid not in before:
                db.session.delete(row)
            else:
                row.expires_at = before[row.kid]
        db.session.commit()
        provider.keys.invalidate()
