"""Subject identifier types (OIDC Core §8, §8.1 pairwise algorithm, §5.3.2 UserInfo sub).

Covers public subjects (the account id), pairwise subjects (stable, sector-scoped, the
redirect host as the default sector, agreeing between ID token and UserInfo), and the
registration rule for pairwise clients whose redirect URIs span hosts.
"""

from __future__ import annotations

import pytest

from idp.accounts.views import SESSION_COOKIE
from idp.oauth.services import ClientRegistrationError
from tests.integration.helpers import tokens_for


def login_claims(app, browser, user, client) -> dict:
    """Start a new SSO session for `user`, run the code flow, return the ID token's claims."""
    browser.client.delete_cookie(SESSION_COOKIE)
    tokens = tokens_for(app, browser, user, client)
    return app.extensions["idp.provider"].tokens.decode(tokens["id_token"])


def id_token_sub(app, browser, user, client) -> str:
    return str(login_claims(app, browser, user, client)["sub"])


def test_public_subject_is_the_account_id(app, browser, make_user, make_client):
    user, client = make_user(), make_client(subject_type="public")
    assert id_token_sub(app, browser, user, client) == user.id


def test_pairwise_subject_is_not_the_account_id_and_is_stable_across_logins(
        app, browser, make_user, make_client):
    user, client = make_user(), make_client(subject_type="pairwise")
    first = login_claims(app, browser, user, client)
    second = login_claims(app, browser, user, client)
    assert first["sid"] != second["sid"]
    assert first["sub"] != user.id
    assert user.id not in first["sub"]
    assert first["sub"] == second["sub"]


def test_pairwise_subject_differs_per_person(app, browser, make_user, make_client):
    client = make_client(subject_type="pairwise")
    first, second = make_user(), make_user()
    assert id_token_sub(app, browser, first, client) != id_token_sub(app, browser, second, client)


def test_clients_sharing_a_sector_identifier_see_the_same_pairwise_subject(
        app, browser, make_user, make_client):
    user = make_user()
    housing = make_client("https://fangchan.example.gov.cn/cb", subject_type="pairwise",
                          sector_identifier="zhujianting.example.gov.cn")
    permits = make_client("https://xuke.example.gov.cn/cb", subject_type="pairwise",
                          sector_identifier="zhujianting.example.gov.cn")
    assert id_token_sub(app, browser, user, housing) == id_token_sub(app, browser, user, permits)


def test_clients_in_different_sectors_see_different_pairwise_subjects(
        app, browser, make_user, make_client):
    user = make_user()
    housing = make_client("https://fangchan.example.gov.cn/cb", subject_type="pairwise",
                          sector_identifier="zhujianting.example.gov.cn")
    tax = make_client("https://fangchan.example.gov.cn/cb", subject_type="pairwise",
                      sector_identifier="shuiwu.example.gov.cn")
    assert id_token_sub(app, browser, user, housing) != id_token_sub(app, browser, user, tax)


def test_without_sector_identifier_the_redirect_host_is_the_sector_oidc_8_1(
        app, browser, make_user, make_client):
    user = make_user()
    first = make_client("https://a.example.gov.cn/first/cb", subject_type="pairwise")
    second = make_client("https://a.example.gov.cn/second/cb", subject_type="pairwise")
    named = make_client("https://b.example.gov.cn/cb", subject_type="pairwise",
                        sector_identifier="a.example.gov.cn")
    elsewhere = make_client("https://c.example.gov.cn/cb", subject_type="pairwise")
    sub = id_token_sub(app, browser, user, first)
    assert id_token_sub(app, browser, user, second) == sub
    assert id_token_sub(app, browser, user, named) == sub
    assert id_token_sub(app, browser, user, elsewhere) != sub


def test_userinfo_sub_equals_id_token_sub_for_pairwise_clients(app, provider, browser,
                                                               make_user, make_client):
    user, client = make_user(), make_client(subject_type="pairwise")
    tokens = tokens_for(app, browser, user, client)
    id_sub = provider.tokens.decode(tokens["id_token"])["sub"]
    response = browser.client.get("/userinfo",
                                  headers={"Authorization": "Bearer " + tokens["access_token"]})
    assert response.status_code == 200
    assert response.json["sub"] == id_sub
    assert id_sub != user.id


def test_access_token_and_introspection_carry_the_pairwise_subject(app, provider, browser,
                                                                   make_user, make_client):
    user, client = make_user(), make_client(subject_type="pairwise")
    tokens = tokens_for(app, browser, user, client)
    id_sub = provider.tokens.decode(tokens["id_token"])["sub"]
    assert provider.tokens.decode(tokens["access_token"])["sub"] == id_sub
    for value in (tokens["access_token"], tokens["refresh_token"]):
        answer = app.test_client().post("/introspect", data={"token": value},
                                        auth=(client.client_id, client.client_secret)).json
        assert answer["sub"] == id_sub


def test_pairwise_client_spanning_two_hosts_needs_a_sector_identifier(provider):
    with pytest.raises(ClientRegistrationError, match="sector identifier"):
        provider.clients.register(
            name="跨域系统", auth_method="client_secret_basic", subject_type="pairwise",
            redirect_uris=["https://a.example.gov.cn/cb", "https://b.example.gov.cn/cb"])


def test_pairwise_client_spanning_two_hosts_registers_with_a_sector_identifier(provider):
    registered = provider.clients.register(
        name="跨域系统", auth_method="client_secret_basic", subject_type="pairwise",
        sector_identifier="example.gov.cn",
        redirect_uris=["https://a.example.gov.cn/cb", "https://b.example.gov.cn/cb"])
    assert registered.client.sector_identifier == "example.gov.cn"


def test_adding_a_redirect_uri_later_never_changes_the_pairwise_subject(
        app, provider, browser, make_user, make_client):
    """The sector is stored at registration: a new redirect URI on another host (even one that
    sorts first) does not move the client into another sector."""
    from idp.extensions import db
    from idp.oauth.models import Client

    user = make_user()
    client = make_client("https://m.example.gov.cn/cb", subject_type="pairwise")
    before = id_token_sub(app, browser, user, client)
    row = db.session.query(Client).filter_by(client_id=client.client_id).one()
    assert row.sector_identifier == "m.example.gov.cn"
    row.redirect_uris = ["https://a.example.gov.cn/cb", "https://m.example.gov.cn/cb"]
    db.session.commit()
    provider.clients.forget()
    assert id_token_sub(app, browser, user, client) == before
