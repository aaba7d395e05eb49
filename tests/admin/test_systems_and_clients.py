"""Business systems and their clients in the console: registering both in one form under the
rules of `idp clients create` (the secret shown once, then working at the token endpoint),
rotating a secret, disabling and enabling a client, attaching a client, declaring a status;
every change audited with the operator as staff at their hall."""

from __future__ import annotations

from typing import Any

from idp.access.models import BusinessSystem
from idp.extensions import db
from idp.oauth.models import Client, Grant
from tests.admin.catalogue import DEPARTMENTS, upload
from tests.admin.conftest import client_id_of, error_of, notice_of, secret_of, text_of
from tests.conftest import TestClient as Registered
from tests.conftest import csrf_from, token_request
from tests.counter.conftest import HALL
from tests.integration.citizens import audit_events
from tests.integration.helpers import introspect, refresh, tokens_for

CALLBACK = "https://gaj.example.gov.cn/callback"


def system_form(**overrides: Any) -> dict[str, Any]:
    form = {"code": "SYS-GA9", "name": "公安厅网上办事系统", "department": "GDGA",
            "contact": "王工 020-8888", "items": "", "client_name": "",
            "redirect_uris": CALLBACK, "auth_method": "client_secret_basic",
            "grant_types": ["authorization_code", "refresh_token", "client_credentials"],
            "scope": "openid profile", "post_logout_redirect_uris": "",
            "backchannel_logout_uri": "", "subject_type": "public", "sector_identifier": "",
            "id_token_alg": "RS256", "first_party": "y"}
    form.update(overrides)
    return {k: v for k, v in form.items() if v is not None}


def registered(operator: Any, **overrides: Any) -> tuple[Any, Registered]:
    upload(operator, "departments", DEPARTMENTS)
    answer = operator.post("/admin/systems/new", system_form(**overrides))
    assert answer.status_code == 200, error_of(answer) or text_of(answer)[-2000:]
    return answer, Registered(client_id_of(answer), secret_of(answer), CALLBACK)


def test_registering_a_system_shows_the_secret_once_and_the_client_works(app, make_operator):
    operator = make_operator()
    answer, client = registered(operator)
    assert answer.headers["Cache-Control"] == "no-store"
    ok = token_request(app, client, grant_type="client_credentials")
    assert ok.status_code == 200, ok.json
    # The secret appears on no later page.
    for path in ("/admin/systems", "/admin/systems/SYS-GA9", f"/admin/clients/{client.client_id}"):
        page = operator.get(path)
        assert page.status_code == 200, path
        assert client.client_secret not in text_of(page), path
    system = db.session.query(BusinessSystem).filter_by(code="SYS-GA9").one()
    assert system.department_code == "GDGA" and system.contact == "王工 020-8888"
    assert f'data-client="{client.client_id}"' in text_of(operator.get("/admin/systems/SYS-GA9"))
    actor = f"staff:{operator.id}@{HALL}"
    [created] = audit_events("admin:client:created")
    [system_created] = audit_events("access:system:created")
    assert created.actor == system_created.actor == actor
    assert created.client_id == client.client_id


def test_the_form_applies_the_rules_of_idp_clients_create_and_registers_nothing_refused(
        app, make_operator):
    operator = make_operator()
    upload(operator, "departments", DEPARTMENTS)
    answer = operator.post("/admin/systems/new",
                           system_form(redirect_uris="http://gaj.example.gov.cn/callback"))
    assert answer.status_code == 400
    assert "redirect URI must use https" in error_of(answer)
    assert db.session.query(Client).count() == 0
    assert db.session.query(BusinessSystem).count() == 0


def test_a_refused_system_takes_its_client_with_it(app, make_operator):
    operator = make_operator()
    upload(operator, "departments", DEPARTMENTS)
    answer = operator.post("/admin/systems/new", system_form(department="NO-SUCH-DEPT"))
    assert answer.status_code == 400
    assert "NO-SUCH-DEPT" in error_of(answer)
    assert db.session.query(Client).count() == 0
    assert audit_events("admin:client:created") == []


def test_a_public_client_gets_no_secret_and_the_page_says_so(app, make_operator):
    operator = make_operator()
    upload(operator, "departments", DEPARTMENTS)
    answer = operator.post("/admin/systems/new", system_form(
        auth_method="none", grant_types=["authorization_code", "refresh_token"]))
    assert answer.status_code == 200
    assert 'id="client-secret"' not in text_of(answer)
    client = db.session.query(Client).one()
    assert client.secret_hash is None and client.auth_method == "none"


def test_rotating_a_secret_stops_the_old_one_at_once_and_shows_the_new_one_once(
        app, make_operator):
    operator = make_operator()
    _answer, client = registered(operator)
    assert token_request(app, client, grant_type="client_credentials").status_code == 200
    answer = operator.post(f"/admin/clients/{client.client_id}/rotate")
    assert answer.status_code == 200
    assert answer.headers["Cache-Control"] == "no-store"
    new = Registered(client.client_id, secret_of(answer), CALLBACK)
    assert new.client_secret != client.client_secret
    old = token_request(app, client, grant_type="client_credentials")
    assert old.status_code == 401 and old.json["error"] == "invalid_client"
    assert token_request(app, new, grant_type="client_credentials").status_code == 200
    assert new.client_secret not in text_of(operator.get(f"/admin/clients/{client.client_id}"))
    [rotated] = audit_events("admin:client:secret_rotated")
    assert rotated.actor == f"staff:{operator.id}@{HALL}" and rotated.client_id == client.client_id


def test_disabling_a_client_refuses_it_everywhere_and_revokes_its_grants(
        app, browser, make_user, make_client, make_operator):
    operator = make_operator()
    client = make_client(redirect_uri=CALLBACK)
    resource_server = make_client(introspects_for=[client.client_id])
    tokens = tokens_for(app, browser, make_user(), client)
    answer = operator.post(f"/admin/clients/{client.client_id}/disable")
    assert answer.status_code == 303
    assert notice_of(operator.get(answer.headers["Location"])) == \
        "客户端已停用：它不能再让任何人登录或获取令牌。已撤销 1 项授权。"
    refused = token_request(app, client, grant_type="client_credentials")
    assert refused.status_code == 401 and refused.json["error"] == "invalid_client"
    assert refresh(app, client, tokens["refresh_token"]).json["error"] == "invalid_client"
    assert introspect(app, resource_server, tokens["access_token"]).json == {"active": False}
    page = browser.authorize(client)
    assert page.status_code == 400 and "invalid_client" in text_of(page)
    assert db.session.query(Grant).filter(Grant.revoked_at.is_(None)).count() == 0
    [disabled] = audit_events("admin:client:disabled")
    assert disabled.data == {"grants_revoked": 1}


def test_an_enabled_client_works_again_but_its_revoked_grants_stay_revoked(
        app, browser, make_user, make_client, make_operator):
    operator = make_operator()
    client = make_client(redirect_uri=CALLBACK)
    tokens = tokens_for(app, browser, make_user(), client)
    operator.post(f"/admin/clients/{client.client_id}/disable")
    answer = operator.post(f"/admin/clients/{client.client_id}/enable")
    assert answer.status_code == 303
    assert token_request(app, client, grant_type="client_credentials").status_code == 200
    assert refresh(app, client, tokens["refresh_token"]).json["error"] == "invalid_grant"
    assert len(audit_events("admin:client:enabled")) == 1


def test_a_disabled_clients_cached_registration_is_dropped_at_once(app, make_client,
                                                                  make_operator):
    operator = make_operator()
    client = make_client()
    assert token_request(app, client, grant_type="client_credentials").status_code == 200
    clients = app.extensions["idp.provider"].clients
    assert client.client_id in clients._cache  # cached by the request above
    # Another worker changed the client: its marker in the store makes this one reload.
    db.session.execute(Client.__table__.update().where(Client.client_id == client.client_id)
                       .values(disabled=True))
    db.session.commit()
    app.extensions["idp.store"].set("client-changed:" + client.client_id, "elsewhere", 60)
    assert token_request(app, client, grant_type="client_credentials").status_code == 401
    assert operator.get(f"/admin/clients/{client.client_id}").status_code == 200


def test_attaching_an_existing_client_and_declaring_the_status(app, make_client, make_operator):
    operator = make_operator()
    _answer, own = registered(operator, grant_types=["authorization_code"])
    other = make_client()
    answer = operator.post("/admin/systems/SYS-GA9/clients", {"client_id": other.client_id})
    assert answer.status_code == 303
    page = operator.get("/admin/systems/SYS-GA9")
    assert f'data-client="{other.client_id}"' in text_of(page)
    again = operator.post("/admin/systems/SYS-GA9/clients", {"client_id": "c_nobody"})
    assert error_of(operator.get(again.headers["Location"])) == "不存在客户端 c_nobody。"
    for status in ("testing", "connected", "retired"):
        answer = operator.post("/admin/systems/SYS-GA9/status", {"status": status})
        assert answer.status_code == 303
    page = text_of(operator.get("/admin/systems/SYS-GA9"))
    assert 'id="declared-status">已停用<' in page
    changes = audit_events("access:system:status_changed")
    assert [e.data["status"] for e in changes] == ["testing", "connected", "retired"]
    assert {e.actor for e in changes} == {f"staff:{operator.id}@{HALL}"}
    attached = audit_events("access:client:attached")
    assert [e.client_id for e in attached] == [other.client_id]
    assert own.client_id != other.client_id


def test_a_system_or_client_that_does_not_exist_is_a_404_page(make_operator):
    operator = make_operator()
    for path in ("/admin/systems/NO-SUCH", "/admin/clients/c_nobody",
                 "/admin/access/city/999999", "/admin/access/department/NOPE"):
        answer = operator.get(path)
        assert answer.status_code == 404, path
        assert error_of(answer), path


def test_the_system_list_filters_by_department_and_status(app, make_operator):
    operator = make_operator()
    registered(operator)
    listed = text_of(operator.get("/admin/systems?department=GDGA&status=registered"))
    assert 'data-code="SYS-GA9"' in listed
    assert 'data-code="SYS-GA9"' not in text_of(
        operator.get("/admin/systems?department=GDRS"))
    assert 'data-code="SYS-GA9"' not in text_of(operator.get("/admin/systems?status=live"))


def test_forms_posted_without_a_csrf_token_change_nothing(app, make_client, make_operator):
    operator = make_operator()
    client = make_client()
    answer = operator.client.post(f"/admin/clients/{client.client_id}/disable")
    assert answer.status_code == 400
    assert db.session.get(Client, db.session.query(Client.id).filter_by(
        client_id=client.client_id).scalar()).disabled is False
    assert csrf_from(text_of(operator.get("/admin/systems")))


def test_access_tokens_issued_before_a_disable_stay_dead_after_enabling(
        app, make_client, make_operator):
    """Disabling is a security decision: enabling the client again accepts new tokens, never
    the client_credentials tokens (which belong to no grant) issued before it was disabled."""
    operator = make_operator()
    client = make_client()
    resource_server = make_client(introspects_for=[client.client_id])
    before = token_request(app, client, grant_type="client_credentials").json["access_token"]
    operator.post(f"/admin/clients/{client.client_id}/disable")
    app.extensions["idp.clock"].advance(5)
    operator.post(f"/admin/clients/{client.client_id}/enable")
    assert introspect(app, resource_server, before).json == {"active": False}
    after = token_request(app, client, grant_type="client_credentials").json["access_token"]
    assert introspect(app, resource_server, after).json["active"] is True
