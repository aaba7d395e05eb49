"""Token revocation (RFC 7009 §2.1 request, §2.2 response, §2.2.1 errors).

Covers: revoking a refresh token ends the whole grant; revoking an access token leaves the
refresh token usable; unknown tokens and other clients' tokens answer 200 without effect;
missing `token`, bad client credentials and unsupported hints are refused; public clients
revoke their own tokens; token_type_hint is honoured and does not hide the other type.
"""

from __future__ import annotations

from tests.integration.helpers import (
    introspect,
    public_tokens_for,
    refresh,
    revoke,
    tokens_for,
)

INACTIVE = {"active": False}


def test_revoking_a_refresh_token_revokes_the_whole_grant(app, browser, make_user,
                                                          make_client):
    user, client = make_user(), make_client()
    tokens = tokens_for(app, browser, user, client)
    response = revoke(app, client, tokens["refresh_token"])
    assert response.status_code == 200
    assert response.json == {}
    assert introspect(app, client, tokens["access_token"]).json == INACTIVE
    assert introspect(app, client, tokens["refresh_token"]).json == INACTIVE
    refreshed = refresh(app, client, tokens["refresh_token"])
    assert refreshed.status_code == 400
    assert refreshed.json["error"] == "invalid_grant"


def test_revoking_a_refresh_token_also_ends_access_tokens_minted_by_refreshing(
        app, browser, make_user, make_client):
    user, client = make_user(), make_client()
    tokens = tokens_for(app, browser, user, client)
    second = refresh(app, client, tokens["refresh_token"]).json
    assert revoke(app, client, second["refresh_token"]).status_code == 200
    assert introspect(app, client, tokens["access_token"]).json == INACTIVE
    assert introspect(app, client, second["access_token"]).json == INACTIVE


def test_revoking_an_access_token_leaves_the_refresh_token_working(app, browser, make_user,
                                                                   make_client):
    user, client = make_user(), make_client()
    tokens = tokens_for(app, browser, user, client)
    assert revoke(app, client, tokens["access_token"]).status_code == 200
    assert introspect(app, client, tokens["access_token"]).json == INACTIVE
    refreshed = refresh(app, client, tokens["refresh_token"])
    assert refreshed.status_code == 200, refreshed.json
    assert introspect(app, client, refreshed.json["access_token"]).json["active"] is True


def test_unknown_token_is_answered_200(app, make_client):
    client = make_client()
    response = revoke(app, client, "no-such-token")
    assert response.status_code == 200
    assert response.json == {}


def test_token_of_another_client_is_not_revoked_and_answer_is_200(app, browser, make_user,
                                                                  make_client):
    user, owner, other = make_user(), make_client(), make_client()
    tokens = tokens_for(app, browser, user, owner)
    for value in (tokens["access_token"], tokens["refresh_token"]):
        response = revoke(app, other, value)
        assert response.status_code == 200
        assert response.json == {}
    assert introspect(app, owner, tokens["access_token"]).json["active"] is True
    assert introspect(app, owner, tokens["refresh_token"]).json["active"] is True
    assert refresh(app, owner, tokens["refresh_token"]).status_code == 200


def test_missing_token_parameter_is_400_invalid_request(app, make_client):
    client = make_client()
    response = app.test_client().post("/revoke", data={"token_type_hint": "access_token"},
                                      auth=(client.client_id, client.client_secret))
    assert response.status_code == 400
    assert response.json["error"] == "invalid_request"


def test_bad_client_credentials_are_401_invalid_client(app, browser, make_user, make_client):
    user, client = make_user(), make_client()
    tokens = tokens_for(app, browser, user, client)
    response = app.test_client().post("/revoke", data={"token": tokens["refresh_token"]},
                                      auth=(client.client_id, "wrong-secret"))
    assert response.status_code == 401
    assert response.json["error"] == "invalid_client"
    assert response.headers["WWW-Authenticate"].startswith("Basic ")
    assert introspect(app, client, tokens["refresh_token"]).json["active"] is True


def test_public_client_revokes_its_own_refresh_token_with_client_id_in_form(
        app, browser, make_user, make_client):
    user, client = make_user(), make_client(auth_method="none")
    tokens = public_tokens_for(app, browser, user, client)
    response = app.test_client().post("/revoke", data={"token": tokens["refresh_token"],
                                                       "client_id": client.client_id})
    assert response.status_code == 200
    refreshed = app.test_client().post("/token", data={
        "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"],
        "client_id": client.client_id})
    assert refreshed.status_code == 400
    assert refreshed.json["error"] == "invalid_grant"


def test_hint_access_token_revokes_the_access_token(app, browser, make_user, make_client):
    user, client = make_user(), make_client()
    tokens = tokens_for(app, browser, user, client)
    assert revoke(app, client, tokens["access_token"],
                  token_type_hint="access_token").status_code == 200
    assert introspect(app, client, tokens["access_token"]).json == INACTIVE
    assert introspect(app, client, tokens["refresh_token"]).json["active"] is True


def test_hint_refresh_token_revokes_the_refresh_token(app, browser, make_user, make_client):
    user, client = make_user(), make_client()
    tokens = tokens_for(app, browser, user, client)
    assert revoke(app, client, tokens["refresh_token"],
                  token_type_hint="refresh_token").status_code == 200
    assert introspect(app, client, tokens["refresh_token"]).json == INACTIVE
    assert introspect(app, client, tokens["access_token"]).json == INACTIVE


def test_wrong_hint_still_finds_a_refresh_token_rfc7009_2_1(app, browser, make_user,
                                                            make_client):
    """§2.1: a server that cannot find the token under the hint extends its search."""
    user, client = make_user(), make_client()
    tokens = tokens_for(app, browser, user, client)
    assert revoke(app, client, tokens["refresh_token"],
                  token_type_hint="access_token").status_code == 200
    assert introspect(app, client, tokens["refresh_token"]).json == INACTIVE


def test_wrong_hint_still_finds_an_access_token_rfc7009_2_1(app, browser, make_user,
                                                            make_client):
    user, client = make_user(), make_client()
    tokens = tokens_for(app, browser, user, client)
    assert revoke(app, client, tokens["access_token"],
                  token_type_hint="refresh_token").status_code == 200
    assert introspect(app, client, tokens["access_token"]).json == INACTIVE
    assert introspect(app, client, tokens["refresh_token"]).json["active"] is True


def test_unsupported_hint_value_is_400_unsupported_token_type(app, browser, make_user,
                                                              make_client):
    """§2.2.1 error responses follow RFC 6749 §5.2, which answers 400 for this error."""
    user, client = make_user(), make_client()
    tokens = tokens_for(app, browser, user, client)
    response = revoke(app, client, tokens["refresh_token"], token_type_hint="id_token")
    assert response.status_code == 400
    assert response.json["error"] == "unsupported_token_type"
    assert introspect(app, client, tokens["refresh_token"]).json["active"] is True
