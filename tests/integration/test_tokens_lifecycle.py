"""Tokens over their life: what a refresh keeps (RFC 6749 §6 scope), how long a grant may
live, that a refresh spends nothing unless every token was signed, the durable record of each
issue, and `idp tokens purge`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, update

from idp.extensions import db
from idp.oauth.models import Grant, RefreshToken, RevokedToken, TokenIssued
from tests.conftest import remember_secret
from tests.integration.helpers import introspect, refresh, revoke, tokens_for


def _count(model) -> int:
    db.session.expire_all()
    return int(db.session.execute(select(func.count()).select_from(model)).scalar_one())


def test_a_refresh_without_scope_gets_the_original_grant_scope_not_the_last_narrowed_one(
        app, browser, make_user, make_client):
    user, client = make_user(), make_client()
    tokens = tokens_for(app, browser, user, client, scope="openid profile phone")
    narrowed = refresh(app, client, tokens["refresh_token"], scope="openid").json
    assert narrowed["scope"] == "openid"
    widened_back = refresh(app, client, narrowed["refresh_token"]).json
    assert widened_back["scope"] == "openid profile phone"
    remember_secret(narrowed["refresh_token"], widened_back["refresh_token"])


def test_a_refresh_may_ask_for_any_part_of_the_grant_but_nothing_beyond_it(
        app, browser, make_user, make_client):
    user, client = make_user(), make_client()
    tokens = tokens_for(app, browser, user, client, scope="openid profile")
    narrowed = refresh(app, client, tokens["refresh_token"], scope="openid").json
    assert refresh(app, client, narrowed["refresh_token"], scope="openid profile").status_code \
        == 200
    refused = tokens_for(app, browser, user, client, scope="openid")
    answer = refresh(app, client, refused["refresh_token"], scope="openid phone")
    assert answer.status_code == 400 and answer.json["error"] == "invalid_scope"


def test_a_grant_past_its_absolute_lifetime_refreshes_no_more(app, browser, make_user,
                                                              make_client, provider):
    user, client = make_user(), make_client()
    tokens = tokens_for(app, browser, user, client)
    lifetime = provider.settings.grant_max_ttl
    db.session.execute(update(Grant).values(
        created_at=datetime.now(UTC) - timedelta(seconds=lifetime + 1)))
    db.session.commit()
    answer = refresh(app, client, tokens["refresh_token"])
    assert answer.status_code == 400 and answer.json["error"] == "invalid_grant"
    assert introspect(app, client, tokens["refresh_token"]).json == {"active": False}


def test_a_new_refresh_token_never_outlives_its_grant(app, browser, make_user, make_client,
                                                      provider):
    user, client = make_user(), make_client()
    tokens = tokens_for(app, browser, user, client)
    created = datetime.now(UTC) - timedelta(seconds=provider.settings.grant_max_ttl - 3600)
    db.session.execute(update(Grant).values(created_at=created))
    db.session.commit()
    rotated = refresh(app, client, tokens["refresh_token"]).json
    remember_secret(rotated["refresh_token"])
    newest = db.session.execute(select(RefreshToken).order_by(RefreshToken.id.desc())
                                .limit(1)).scalar_one()
    end = created + timedelta(seconds=provider.settings.grant_max_ttl)
    assert abs((newest.expires_at.replace(tzinfo=UTC) - end).total_seconds()) < 2


def test_a_refresh_whose_id_token_cannot_be_signed_spends_nothing(
        app, browser, make_user, make_client, provider, monkeypatch):
    user, client = make_user(), make_client()
    tokens = tokens_for(app, browser, user, client)
    original = provider.tokens.id_token

    def unsigned(**kwargs):
        raise RuntimeError("the signing key is unavailable")

    monkeypatch.setattr(provider.tokens, "id_token", unsigned)
    failed = refresh(app, client, tokens["refresh_token"])
    assert failed.status_code == 500
    monkeypatch.setattr(provider.tokens, "id_token", original)
    # the refresh token was not spent by the failed attempt: it works once, as before
    again = refresh(app, client, tokens["refresh_token"])
    assert again.status_code == 200 and "id_token" in again.json


def test_every_issued_access_token_leaves_a_record_without_the_token(
        app, browser, make_user, make_client):
    user, client = make_user(), make_client()
    tokens = tokens_for(app, browser, user, client)
    rotated = refresh(app, client, tokens["refresh_token"]).json
    machine = app.test_client().post("/token", data={"grant_type": "client_credentials"},
                                     auth=(client.client_id, client.client_secret)).json
    remember_secret(rotated["refresh_token"], machine["access_token"])
    tokens_api = app.extensions["idp.provider"].tokens
    jtis = [tokens_api.decode(t)["jti"] for t in (tokens["access_token"],
                                                  rotated["access_token"],
                                                  machine["access_token"])]
    records = db.session.execute(select(TokenIssued).order_by(TokenIssued.id)).scalars().all()
    assert [(r.grant_type, r.client_id, r.user_id, r.jti) for r in records] == [
        ("authorization_code", client.client_id, user.id, jtis[0]),
        ("refresh_token", client.client_id, user.id, jtis[1]),
        ("client_credentials", client.client_id, None, jtis[2])]
    assert records[0].grant_id == records[1].grant_id == jtis[0].split(".")[0]
    stored = repr([(r.jti, r.scope, r.grant_id) for r in records])
    assert tokens["access_token"] not in stored and machine["access_token"] not in stored


def test_tokens_purge_removes_what_decides_nothing_and_keeps_the_rest(
        app, browser, make_user, make_client, provider):
    user, client = make_user(), make_client()
    live = tokens_for(app, browser, user, client)
    dead = tokens_for(app, browser, user, client)
    spent = refresh(app, client, live["refresh_token"]).json  # live's first token is spent
    remember_secret(spent["refresh_token"])
    assert revoke(app, client, dead["refresh_token"]).status_code == 200
    assert revoke(app, client, spent["access_token"]).status_code == 200
    long_ago = datetime.now(UTC) - timedelta(days=provider.settings.token_retention_days + 1)
    db.session.execute(update(Grant).where(Grant.revoked_at.is_not(None))
                       .values(revoked_at=long_ago))
    db.session.execute(update(RefreshToken).where(RefreshToken.spent_at.is_not(None))
                       .values(spent_at=long_ago))
    db.session.execute(update(RevokedToken).values(expires_at=long_ago))
    db.session.commit()
    assert (_count(Grant), _count(RefreshToken), _count(RevokedToken)) == (2, 3, 1)
    result = app.test_cli_runner().invoke(args=["tokens", "purge", "--batch", "1"])
    assert result.exit_code == 0, result.output
    assert "purge: refresh tokens: 1 removed so far\n" in result.stdout
    assert result.stdout.splitlines()[-1] == (
        "purged 2 refresh tokens, 1 grants, 1 revoked access tokens, 0 used client assertions, "
        "0 token issuance records, "
        "0 back-channel notices, 0 security events, 0 lockout rows")
    assert (_count(Grant), _count(RefreshToken), _count(RevokedToken)) == (1, 1, 0)
    # what still decides something is untouched: the live grant's newest token works
    assert refresh(app, client, spent["refresh_token"]).status_code == 200
    again = app.test_cli_runner().invoke(args=["tokens", "purge"])
    assert again.stdout.splitlines()[-1].startswith("purged 0 refresh tokens, 0 grants")
