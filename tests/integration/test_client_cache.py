"""Client lookups are cached per worker for IDP_CLIENT_CACHE_TTL (the token endpoint's hot path)."""

from __future__ import annotations

from sqlalchemy import delete

from idp.extensions import db
from idp.oauth.models import Client
from tests.conftest import token_request


def test_a_cached_client_keeps_authenticating_across_requests(app, make_client):
    client = make_client()
    for _ in range(3):
        assert token_request(app, client, grant_type="client_credentials").status_code == 200


def test_lookups_within_the_ttl_come_from_the_cache_until_forgotten(app, provider, make_client):
    client = make_client()
    assert provider.clients.get(client.client_id) is not None  # now cached
    db.session.execute(delete(Client).where(Client.client_id == client.client_id))
    db.session.commit()
    assert provider.clients.get(client.client_id).client_id == client.client_id
    provider.clients.forget(client.client_id)
    assert provider.clients.get(client.client_id) is None


def test_unknown_clients_are_not_cached(app, provider):
    assert provider.clients.get("not-yet") is None
    registered = provider.clients.register(name="later", redirect_uris=["https://l.example/cb"],
                                           auth_method="client_secret_basic",
                                           client_id="not-yet")
    assert provider.clients.get("not-yet").client_id == registered.client.client_id
