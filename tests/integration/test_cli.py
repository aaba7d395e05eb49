"""The `idp` operator commands (clients create, users create, keys rotate).

Covers the JSON output operators script against, the exit code 2 with a message naming the
problem for invalid input (RFC 6749 §3.1.2 absolute redirect URIs; RFC 7523 §2.2 and OIDC
Core §9 private_key_jwt needing the client's public keys), and key rotation from the CLI
(OIDC Core §10.1.1).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
from joserfc.jwk import RSAKey
from sqlalchemy import select

from idp.accounts.models import User
from idp.extensions import db
from idp.oauth.models import Client, SigningKey
from tests.integration.helpers import signing_keys_restored


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def restore_keys(provider) -> Iterator[None]:
    with signing_keys_restored(provider):
        yield


def create_client(runner, *extra: str):
    return runner.invoke(args=["clients", "create", "--name", "不动产登记系统",
                               "--redirect-uri", "https://a.example.gov.cn/cb", *extra])


def test_clients_create_json_prints_client_id_and_secret(runner, provider):
    result = create_client(runner, "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["token_endpoint_auth_method"] == "client_secret_basic"
    assert out["redirect_uris"] == ["https://a.example.gov.cn/cb"]
    client = provider.clients.get(out["client_id"])
    assert client is not None and client.name == "不动产登记系统"
    assert client.check_client_secret(out["client_secret"]) is True
    assert client.secret_hash != out["client_secret"]


def test_clients_create_json_for_a_public_client_has_no_secret(runner, provider):
    result = create_client(runner, "--auth-method", "none", "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert "client_secret" not in out
    assert out["token_endpoint_auth_method"] == "none"
    assert provider.clients.get(out["client_id"]).secret_hash is None


def test_clients_create_private_key_jwt_with_a_jwks_file(runner, provider, tmp_path):
    public = RSAKey.generate_key(2048, parameters={"kid": "rp-1"}, private=True)
    jwks = {"keys": [public.as_dict(private=False)]}
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps(jwks))
    result = create_client(runner, "--auth-method", "private_key_jwt", "--jwks-file", str(path),
                           "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert "client_secret" not in out
    assert out["token_endpoint_auth_method"] == "private_key_jwt"
    assert provider.clients.get(out["client_id"]).jwks == jwks


def test_clients_create_private_key_jwt_without_keys_fails_with_exit_2(runner):
    result = create_client(runner, "--auth-method", "private_key_jwt", "--json")
    assert result.exit_code == 2
    assert result.stderr == ("Error: private_key_jwt needs exactly one of a JWKS file or a "
                             "JWKS URI\n")
    assert result.stdout == ""
    assert db.session.execute(select(Client)).first() is None


def test_clients_create_refuses_a_private_jwks(runner, tmp_path):
    private = RSAKey.generate_key(2048, parameters={"kid": "rp-1"}, private=True)
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps({"keys": [private.as_dict(private=True)]}))
    result = create_client(runner, "--auth-method", "private_key_jwt", "--jwks-file", str(path))
    assert result.exit_code == 2
    assert "private key" in result.stderr


def test_clients_create_with_an_invalid_redirect_uri_exits_2_naming_it(runner):
    result = runner.invoke(args=["clients", "create", "--name", "x", "--redirect-uri",
                                 "not-a-url", "--json"])
    assert result.exit_code == 2
    assert result.stderr == ("Error: redirect URI must be an absolute https URL without "
                             "fragment: not-a-url\n")
    assert db.session.execute(select(Client)).first() is None


def test_users_create_json_prints_id_and_username(runner):
    result = runner.invoke(args=["users", "create", "--username", "wangwu", "--password",
                                 "Correct-Horse-9", "--phone", "13911112222", "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    user = db.session.get(User, out["id"])
    assert out == {"id": user.id, "username": "wangwu", "trust_level": 2}
    assert user.phone == "13911112222"


def test_users_create_duplicate_username_exits_2_with_a_message(runner):
    args = ["users", "create", "--username", "wangwu", "--password", "Correct-Horse-9"]
    assert runner.invoke(args=args).exit_code == 0
    result = runner.invoke(args=args)
    assert result.exit_code == 2
    assert result.stderr == "Error: an account with this username or phone already exists\n"
    assert len(db.session.execute(select(User).where(User.username == "wangwu")).all()) == 1


def test_keys_rotate_with_activate_in_zero_prints_the_new_kid(app, runner, provider,
                                                              restore_keys):
    old_kid = provider.keys.signing_key("RS256").kid
    result = runner.invoke(args=["keys", "rotate", "--alg", "RS256", "--activate-in", "0"])
    assert result.exit_code == 0, result.output
    match = re.fullmatch(r"RS256: new key (\S+) published now, signs from \S+\n", result.stdout)
    assert match, result.stdout
    kid = match.group(1)
    assert kid != old_kid
    assert db.session.get(SigningKey, kid).alg == "RS256"
    assert provider.keys.signing_key("RS256").kid == kid
    published = {key["kid"] for key in app.test_client().get("/jwks").json["keys"]}
    assert {kid, old_kid} <= published


def test_users_logout_ends_every_session_of_the_account(runner, browser, make_user,
                                                        make_client):
    from tests.conftest import redirect_params

    user, client = make_user(), make_client()
    browser.login(user)
    result = runner.invoke(args=["users", "logout", "--username", user.username])
    assert result.exit_code == 0, result.output
    assert result.stdout == f"ended 1 session(s) of {user.username}\n"
    assert redirect_params(browser.authorize(client, prompt="none"))["error"] == "login_required"
