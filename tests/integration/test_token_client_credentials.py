"""client_credentials grant (RFC 6749 §4.4) with each client authentication method."""

from __future__ import annotations


def test_client_credentials_with_basic_auth_returns_a_jwt_access_token(app, make_client):
    client = make_client()
    response = app.test_client().post("/token", data={"grant_type": "client_credentials",
                                                      "scope": "openid profile"},
                                      auth=(client.client_id, client.client_secret))
    assert response.status_code == 200
    body = response.json
    assert "refresh_token" not in body and "id_token" not in body
    assert body["scope"] == "profile"  # openid is about people; dropped for a machine token
    claims = app.extensions["idp.provider"].tokens.decode(body["access_token"])
    assert claims["sub"] == client.client_id and claims["client_id"] == client.client_id


def test_access_token_header_is_rfc9068_at_jwt(app, make_client):
    from joserfc import jws

    client = make_client()
    token = app.test_client().post("/token", data={"grant_type": "client_credentials"},
                                   auth=(client.client_id, client.client_secret)).json
    header = jws.extract_compact(token["access_token"].encode()).headers()
    assert header["typ"] == "at+jwt" and header["alg"] == "RS256" and header["kid"]


def test_client_credentials_with_client_secret_post(app, make_client):
    client = make_client(auth_method="client_secret_post")
    response = app.test_client().post("/token", data={
        "grant_type": "client_credentials", "client_id": client.client_id,
        "client_secret": client.client_secret})
    assert response.status_code == 200


def test_secret_post_client_cannot_use_basic(app, make_client):
    client = make_client(auth_method="client_secret_post")
    response = app.test_client().post("/token", data={"grant_type": "client_credentials"},
                                      auth=(client.client_id, client.client_secret))
    assert response.status_code == 401 and response.json["error"] == "invalid_client"


def test_public_client_cannot_use_client_credentials(app, make_client):
    client = make_client(auth_method="none")
    response = app.test_client().post("/token", data={"grant_type": "client_credentials",
                                                      "client_id": client.client_id})
    assert response.json["error"] in {"invalid_client", "unauthorized_client"}
    assert response.status_code in {400, 401}


def test_client_secrets_are_stored_as_keyed_hashes(app, make_client):
    from idp.oauth.models import Client

    client = make_client()
    row = Client.query.filter_by(client_id=client.client_id).one()
    assert row.secret_hash and client.client_secret not in row.secret_hash
    assert len(row.secret_hash) == 64


def test_a_machine_token_carries_only_scopes_the_client_is_registered_for(app, make_client):
    """RFC 6749 §3.3: the server may narrow the requested scope; it never widens a client's
    registration (a client registered for profile asked for phone and an invented scope)."""
    client = make_client(scope="openid profile")
    response = app.test_client().post("/token", data={"grant_type": "client_credentials",
                                                      "scope": "profile phone admin"},
                                      auth=(client.client_id, client.client_secret))
    assert response.status_code == 200
    assert response.json["scope"] == "profile"
    claims = app.extensions["idp.provider"].tokens.decode(response.json["access_token"])
    assert claims["scope"] == "profile"
