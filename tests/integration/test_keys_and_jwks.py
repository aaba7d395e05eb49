"""Signing keys, JWKS and discovery (RFC 7517 §4-5, RFC 7518 §6; OIDC Discovery §3, §4;
OIDC Core §10.1.1 key rotation).

Covers: the JWKS publishes only public members with kid/use/alg; the discovery document's
endpoints and supported values; rotation with the publish-ahead lead and with immediate
activation; expired keys leaving the JWKS; private keys sealed at rest; the first keys, made
once however many instances start at once, and made by the first token request when no
`idp serve` made them.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet
from sqlalchemy import delete, func, insert, select

from idp.extensions import db
from idp.oauth import keys as keys_module
from idp.oauth.models import SigningKey
from tests.conftest import app_like, remember_secret
from tests.integration.helpers import introspect, signing_keys_restored, tokens_for

PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}


@pytest.fixture
def restore_keys(provider) -> Iterator[None]:
    with signing_keys_restored(provider):
        yield


def kid_of(token: str) -> str:
    segment = token.split(".")[0]
    header = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    return str(header["kid"])


def published_kids(app) -> set[str]:
    return {key["kid"] for key in app.test_client().get("/jwks").json["keys"]}


def test_jwks_holds_only_public_members_with_kid_use_and_alg(app):
    response = app.test_client().get("/jwks")
    assert response.status_code == 200
    keys = response.json["keys"]
    assert {key["alg"] for key in keys} >= {"RS256", "ES256"}
    for key in keys:
        assert not PRIVATE_MEMBERS & set(key), key
        assert key["kid"]
        assert key["use"] == "sig"
        if key["alg"] == "RS256":
            assert key["kty"] == "RSA" and {"n", "e"} <= set(key)
        else:
            assert key["alg"] == "ES256"
            assert key["kty"] == "EC" and key["crv"] == "P-256" and {"x", "y"} <= set(key)


def test_discovery_lists_the_endpoints_under_the_issuer_oidc_discovery_3(app, provider):
    issuer = provider.settings.issuer
    doc = app.test_client().get("/.well-known/openid-configuration").json
    assert doc["issuer"] == issuer
    assert {name: doc[name] for name in (
        "authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri",
        "revocation_endpoint", "introspection_endpoint", "end_session_endpoint")} == {
        "authorization_endpoint": issuer + "/authorize", "token_endpoint": issuer + "/token",
        "userinfo_endpoint": issuer + "/userinfo", "jwks_uri": issuer + "/jwks",
        "revocation_endpoint": issuer + "/revoke",
        "introspection_endpoint": issuer + "/introspect",
        "end_session_endpoint": issuer + "/logout"}
    assert doc["response_types_supported"] == ["code"]
    assert doc["code_challenge_methods_supported"] == ["S256"]
    assert doc["subject_types_supported"] == ["public", "pairwise"]
    assert doc["id_token_signing_alg_values_supported"] == ["RS256", "ES256"]


def test_discovery_endpoints_answer_where_they_are_advertised(app, provider):
    doc = app.test_client().get("/.well-known/openid-configuration").json
    client = app.test_client()
    assert client.get(doc["jwks_uri"].removeprefix(provider.settings.issuer)).status_code == 200
    assert client.get(doc["userinfo_endpoint"].removeprefix(
        provider.settings.issuer)).status_code == 401


def test_rotation_publishes_the_new_key_at_once_but_signs_with_the_old_one_until_the_lead(
        app, provider, browser, make_user, make_client, restore_keys):
    old_kid = provider.keys.signing_key("RS256").kid
    new = provider.keys.rotate("RS256")
    assert new.kid != old_kid
    assert published_kids(app) >= {old_kid, new.kid}
    tokens = tokens_for(app, browser, make_user(), make_client())
    assert kid_of(tokens["id_token"]) == old_kid
    assert kid_of(tokens["access_token"]) == old_kid


def test_rotation_with_activate_in_zero_signs_with_the_new_key_and_keeps_the_old_published(
        app, provider, browser, make_user, make_client, restore_keys):
    user, client = make_user(), make_client()
    earlier = tokens_for(app, browser, user, client)
    old_kid = kid_of(earlier["access_token"])
    new = provider.keys.rotate("RS256", activate_in=0)
    tokens = tokens_for(app, browser, user, client)
    assert kid_of(tokens["id_token"]) == new.kid
    assert kid_of(tokens["access_token"]) == new.kid
    assert published_kids(app) >= {old_kid, new.kid}
    assert introspect(app, client, earlier["access_token"]).json["active"] is True
    assert introspect(app, client, tokens["access_token"]).json["active"] is True


def test_key_past_its_expiry_leaves_the_jwks_and_no_longer_verifies(
        app, provider, browser, make_user, make_client, restore_keys):
    user, client = make_user(), make_client()
    earlier = tokens_for(app, browser, user, client)
    old_kid = kid_of(earlier["access_token"])
    new = provider.keys.rotate("RS256", activate_in=0)
    old = db.session.get(SigningKey, old_kid)
    old.expires_at = datetime.now(UTC) - timedelta(seconds=1)
    db.session.commit()
    provider.keys.invalidate()
    kids = published_kids(app)
    assert old_kid not in kids
    assert new.kid in kids
    assert introspect(app, client, earlier["access_token"]).json == {"active": False}


def test_private_keys_are_sealed_at_rest(provider):
    rows = db.session.execute(select(SigningKey)).scalars().all()
    assert {row.alg for row in rows} >= {"RS256", "ES256"}
    for row in rows:
        private = json.loads(provider.keys.box.open(row.private_sealed))
        assert private["kid"] == row.kid
        assert row.private_sealed.startswith("v2." + provider.keys.box.keyring.active + ".")
        assert private["d"] not in row.private_sealed
        assert '"d"' not in row.private_sealed
        assert "d" not in row.public_jwk


@contextmanager
def fresh_database(provider) -> Iterator[None]:
    """The database as on a first start, with no signing key; the suite's keys are put back
    afterwards, row for row."""
    table = SigningKey.__table__
    db.session.rollback()
    kept = [dict(row) for row in db.session.execute(select(table)).mappings()]
    db.session.execute(delete(table))
    db.session.commit()
    provider.keys.invalidate()
    try:
        yield
    finally:
        db.session.rollback()
        db.session.execute(delete(table))
        db.session.execute(insert(table), kept)
        db.session.commit()
        provider.keys.invalidate()


def keys_per_alg() -> dict[str, int]:
    db.session.rollback()
    return dict(db.session.execute(select(SigningKey.alg, func.count())
                                   .group_by(SigningKey.alg)).all())


def test_instances_starting_at_once_on_a_fresh_database_create_one_key_per_algorithm(
        app, provider, monkeypatch):
    # Key generation waits (up to a second) for the other instance to get there too: without
    # a lock around the check and the insert, both find no key and both create one.
    both_generating = threading.Barrier(2)
    generate = keys_module._generate

    def generate_together(alg: str, kid: str) -> Any:
        # Broken: the other instance is held back (the lock), so this one goes on alone.
        with suppress(threading.BrokenBarrierError):
            both_generating.wait(timeout=1.0)
        return generate(alg, kid)

    monkeypatch.setattr(keys_module, "_generate", generate_together)
    start = threading.Barrier(2, timeout=10)
    created: dict[int, list[str]] = {}
    failed: list[BaseException] = []

    def first_start(n: int, instance) -> None:
        try:
            with instance.app_context():
                start.wait()
                created[n] = instance.extensions["idp.provider"].keys.ensure_keys()
        except BaseException as error:  # noqa: BLE001 - reported by the test below
            failed.append(error)

    with fresh_database(provider), app_like(app) as a, app_like(app) as b:
        threads = [threading.Thread(target=first_start, args=(n, instance))
                   for n, instance in enumerate((a, b))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert failed == []
        assert keys_per_alg() == {"RS256": 1, "ES256": 1}
        assert sorted(len(kids) for kids in created.values()) == [0, 2]
        assert a.extensions["idp.provider"].keys.ensure_keys() == []  # and again: nothing


def test_the_first_token_on_a_fresh_database_is_signed_by_a_key_made_for_it(
        app, provider, make_client):
    """Under a WSGI server other than `idp serve`, nothing created the keys before the first
    request; the request that needs one creates it and signs with it at once."""
    client = make_client()
    with fresh_database(provider), app_like(app) as fresh:
        response = fresh.test_client().post("/token", data={"grant_type": "client_credentials"},
                                            auth=(client.client_id, client.client_secret))
        assert response.status_code == 200, response.get_data(as_text=True)
        access_token = response.json["access_token"]
        remember_secret(access_token)
        published = KeySet.import_key_set(fresh.test_client().get("/jwks").json)
        claims = jwt.decode(access_token, published, algorithms=["RS256"]).claims
        assert claims["client_id"] == client.client_id
        assert keys_per_alg() == {"RS256": 1, "ES256": 1}
