"""The console's JSON API (/admin/api): RFC 6750 bearer tokens issued here by
client_credentials with the admin scope; refused without the scope, for a person's token, for
a revoked token or a disabled client; the rates, a follow-up list and the imports with the
same checks and results as the CSV upload."""

from __future__ import annotations

from typing import Any

import pytest

from idp.access.models import Department
from idp.extensions import db
from idp.oauth.services import ClientRegistrationError
from tests.admin.catalogue import DEPARTMENTS, EXPECTED, import_catalogue
from tests.conftest import token_request
from tests.integration.citizens import audit_events
from tests.integration.helpers import revoke, tokens_for

RECORDS = [{"code": "GDGA", "name": "广东省公安厅", "level": "province",
            "division_code": "440000"},
           {"code": "QYZS", "name": "清远市政务服务数据管理局", "level": "city",
            "division_code": "441800"}]


def admin_token(app: Any, client: Any) -> str:
    answer = token_request(app, client, grant_type="client_credentials", scope="admin")
    assert answer.status_code == 200, answer.json
    assert answer.json["scope"] == "admin"
    return str(answer.json["access_token"])


@pytest.fixture
def admin_client(make_client: Any) -> Any:
    return make_client(scope="admin", grant_types=["client_credentials"],
                       redirect_uri="https://scripts.example.gov.cn/unused")


def call(app: Any, method: str, path: str, token: str | None = None, **kwargs: Any) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return app.test_client().open(path, method=method, headers=headers, **kwargs)


def test_the_rates_report_answers_an_admin_client_credentials_token(
        app, browser, make_user, make_client, make_operator, admin_client):
    operator = make_operator()
    ga = make_client(redirect_uri="https://gaj.example.gov.cn/cb")
    qy = make_client(redirect_uri="https://qy.example.gov.cn/cb")
    import_catalogue(operator, ga.client_id, qy.client_id)
    tokens_for(app, browser, make_user(), qy)
    answer = call(app, "GET", "/admin/api/rates", admin_token(app, admin_client))
    assert answer.status_code == 200
    assert answer.headers["Cache-Control"] == "no-store"
    rates = {r["scope"]: r for r in answer.json["rates"]}
    city = rates["city:441800"]
    assert (city["items"], city["declared"], city["verified"]) == (4, 3, 2)
    assert (city["declared_rate"], city["verified_rate"], city["gap"]) == (75.0, 50.0, 40.0)
    assert EXPECTED["city:441800"][0] == str(city["items"])
    assert answer.json["live_days"] == 30


def test_the_follow_up_list_of_a_scope(app, browser, make_user, make_client, make_operator,
                                       admin_client):
    operator = make_operator()
    ga = make_client(redirect_uri="https://gaj.example.gov.cn/cb")
    qy = make_client(redirect_uri="https://qy.example.gov.cn/cb")
    import_catalogue(operator, ga.client_id, qy.client_id)
    tokens_for(app, browser, make_user(), qy)
    token = admin_token(app, admin_client)
    answer = call(app, "GET", "/admin/api/follow-up?scope=city:441800", token)
    assert answer.status_code == 200
    assert [i["code"] for i in answer.json["items"]] == ["QC-2", "QY-2"]
    assert [s["code"] for s in answer.json["items"][0]["systems"]] == ["SYS-QC"]
    bad = call(app, "GET", "/admin/api/follow-up?scope=city:999999", token)
    assert bad.status_code == 400 and bad.json["error"] == "invalid_request"


def test_no_token_is_a_401_with_a_bearer_challenge(app):
    answer = call(app, "GET", "/admin/api/rates")
    assert answer.status_code == 401
    assert answer.headers["WWW-Authenticate"] == 'Bearer realm="admin"'
    assert answer.json["error"] == "invalid_request"


def test_a_forged_or_revoked_token_is_invalid_token(app, admin_client):
    forged = call(app, "GET", "/admin/api/rates", "not.a.token")
    assert forged.status_code == 401 and forged.json["error"] == "invalid_token"
    assert 'error="invalid_token"' in forged.headers["WWW-Authenticate"]
    token = admin_token(app, admin_client)
    assert revoke(app, admin_client, token).status_code == 200
    answer = call(app, "GET", "/admin/api/rates", token)
    assert answer.status_code == 401 and answer.json["error"] == "invalid_token"


def test_a_token_without_the_admin_scope_is_insufficient_scope(app, make_client):
    plain = make_client()
    answer = token_request(app, plain, grant_type="client_credentials", scope="admin")
    assert answer.status_code == 200 and "admin" not in answer.json["scope"].split()
    refused = call(app, "GET", "/admin/api/rates", answer.json["access_token"])
    assert refused.status_code == 403 and refused.json["error"] == "insufficient_scope"
    assert 'scope="admin"' in refused.headers["WWW-Authenticate"]


def test_a_persons_token_carrying_the_admin_scope_is_refused(app, browser, make_user,
                                                              make_client):
    both = make_client(scope="openid profile admin")
    tokens = tokens_for(app, browser, make_user(), both, scope="openid admin")
    assert "admin" in tokens["scope"].split()
    answer = call(app, "GET", "/admin/api/rates", tokens["access_token"])
    assert answer.status_code == 403 and answer.json["error"] == "insufficient_scope"


def test_a_disabled_clients_token_stops_at_once(app, admin_client):
    token = admin_token(app, admin_client)
    assert call(app, "GET", "/admin/api/rates", token).status_code == 200
    from idp.audit.actors import Actor

    app.extensions["idp.provider"].clients.disable(admin_client.client_id,
                                                   Actor.operator("tests"))
    answer = call(app, "GET", "/admin/api/rates", token)
    assert answer.status_code == 401 and answer.json["error"] == "invalid_token"
    again = token_request(app, admin_client, grant_type="client_credentials", scope="admin")
    assert again.status_code == 401 and again.json["error"] == "invalid_client"


def test_only_a_confidential_client_credentials_client_may_be_registered_with_admin(provider):
    with pytest.raises(ClientRegistrationError, match="admin scope needs"):
        provider.clients.register(name="x", redirect_uris=["https://x.example/cb"],
                                  auth_method="client_secret_basic",
                                  grant_types=["authorization_code"], scope="openid admin")
    with pytest.raises(ClientRegistrationError, match="admin scope needs"):
        provider.clients.register(name="x", redirect_uris=["https://x.example/cb"],
                                  auth_method="none", scope="openid admin")


def test_a_json_import_dry_run_then_the_import_as_the_client(app, admin_client):
    token = admin_token(app, admin_client)
    dry = call(app, "POST", "/admin/api/imports/departments?dry_run=1", token, json=RECORDS)
    assert dry.status_code == 200
    assert (dry.json["created"], dry.json["written"], dry.json["dry_run"]) == (2, False, True)
    assert db.session.query(Department).count() == 0
    done = call(app, "POST", "/admin/api/imports/departments", token, json=RECORDS)
    assert done.status_code == 200 and done.json["written"] is True
    assert db.session.query(Department).count() == 2
    [imported] = audit_events("access:catalogue:imported")
    assert imported.actor == f"client:{admin_client.client_id}"


def test_rejected_json_records_are_listed_and_nothing_is_written(app, admin_client):
    token = admin_token(app, admin_client)
    records = [*RECORDS, {"code": "BAD", "name": "错误的层级", "level": "village",
                          "division_code": "441802"}, RECORDS[0]]
    answer = call(app, "POST", "/admin/api/imports/departments", token, json=records)
    assert answer.status_code == 422 and answer.json["error"] == "invalid_request"
    assert [(r["row"], [p["code"] for p in r["problems"]]) for r in answer.json["rejected"]] \
        == [(3, ["bad_level"]), (4, ["duplicate_code"])]
    assert answer.json["written"] is False
    assert db.session.query(Department).count() == 0


def test_the_import_wants_a_json_list_of_a_known_kind(app, admin_client):
    token = admin_token(app, admin_client)
    not_json = call(app, "POST", "/admin/api/imports/items", token, data=DEPARTMENTS,
                    content_type="text/csv")
    assert not_json.status_code == 415 and not_json.json["error"] == "invalid_request"
    broken = call(app, "POST", "/admin/api/imports/items", token, data="[{",
                  content_type="application/json")
    assert broken.status_code == 400
    not_a_list = call(app, "POST", "/admin/api/imports/items", token, json={"code": "x"})
    assert not_a_list.status_code == 422
    unknown = call(app, "POST", "/admin/api/imports/villages", token, json=[])
    assert unknown.status_code == 404 and unknown.json["error"] == "not_found"


def test_the_api_answers_json_errors_for_unknown_paths_and_methods(app):
    missing = app.test_client().get("/admin/api/nothing-here")
    assert missing.status_code == 404 and missing.json["error"] == "not_found"
    wrong = app.test_client().delete("/admin/api/rates")
    assert wrong.status_code == 405 and wrong.json["error"] == "invalid_request"


def test_the_documented_command_registers_a_client_the_api_accepts(app):
    import json

    from tests.conftest import TestClient as Registered
    from tests.conftest import remember_secret

    result = app.test_cli_runner().invoke(args=[
        "clients", "create", "--name", "省政数局接入统计脚本", "--grant-type",
        "client_credentials", "--scope", "admin", "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    remember_secret(out["client_secret"])
    client = Registered(out["client_id"], out["client_secret"], "")
    assert call(app, "GET", "/admin/api/rates", admin_token(app, client)).status_code == 200
