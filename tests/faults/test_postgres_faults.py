"""PostgreSQL stopped and frozen (every process SIGSTOPped) under a provider that uses it:
requests answer 503 within IDP_DATABASE_TIMEOUT, in the caller's form, and service resumes
when the database does. The cluster is the tests' own; the shared one is never touched."""

from __future__ import annotations

from typing import Any

from flask import Flask

from idp.audit.services import verify_chain
from idp.extensions import db
from tests.conftest import Browser, csrf_from, remember_secret
from tests.faults.conftest import PostgresCluster, app_on

UNAVAILABLE = {"error": "temporarily_unavailable",
               "error_description": "A backing service is unavailable; retry shortly."}


def _client(fa: Flask) -> tuple[str, str]:
    with fa.app_context():
        registered = fa.extensions["idp.provider"].clients.register(
            name="业务系统", auth_method="client_secret_basic",
            redirect_uris=["https://rp.example.gov.cn/callback"],
            grant_types=["client_credentials"])
        db.session.commit()  # the test's own unit of work (services only flush)
        remember_secret(registered.client_secret)
        return registered.client.client_id, str(registered.client_secret)


def _refused_cleanly(fa: Flask, auth: tuple[str, str]) -> None:
    http = fa.test_client()
    machine = http.post("/token", data={"grant_type": "client_credentials"}, auth=auth)
    assert machine.status_code == 503 and machine.json == UNAVAILABLE
    assert machine.headers["Retry-After"] == "2"
    person = Browser(fa.test_client())
    page = person.client.get("/login")
    login = person.client.post("/login", data={
        "csrf_token": csrf_from(page.get_data(as_text=True)), "identifier": "someone",
        "password": "Not-The-Password-1"})
    assert login.status_code == 503
    assert "服务暂时不可用，请稍后再试。" in login.get_data(as_text=True)
    ready = http.get("/readyz")
    assert ready.status_code == 503 and ready.json["database"] is False


def _served(fa: Flask, auth: tuple[str, str]) -> Any:
    answer = fa.test_client().post("/token", data={"grant_type": "client_credentials"},
                                   auth=auth)
    assert answer.status_code == 200, answer.get_data(as_text=True)[:300]
    remember_secret(answer.json["access_token"])
    return answer


def _chain_intact(fa: Flask) -> None:
    with fa.app_context():
        assert verify_chain() is None


def test_postgresql_stopped_answers_503_and_service_resumes(
        app, postgres_cluster: PostgresCluster):
    with app_on(app, database_url=postgres_cluster.url, migrate=True,
                database_timeout=1) as fa:
        auth = _client(fa)
        fa.extensions["idp.provider"].clients.forget()  # every lookup reads the database
        _served(fa, auth)
        postgres_cluster.stop()
        try:
            _refused_cleanly(fa, auth)
        finally:
            postgres_cluster.start()
        _served(fa, auth)  # pooled connections of the stopped server are replaced (pre-ping)
        _chain_intact(fa)


def test_postgresql_frozen_answers_503_within_the_timeout_and_service_resumes(
        app, postgres_cluster: PostgresCluster):
    with app_on(app, database_url=postgres_cluster.url, database_timeout=1) as fa:
        auth = _client(fa)
        fa.extensions["idp.provider"].clients.forget()
        with fa.app_context():
            db.engine.dispose()  # new connections must reach the frozen server
        postgres_cluster.freeze()
        try:
            _refused_cleanly(fa, auth)
        finally:
            postgres_cluster.thaw()
        _served(fa, auth)
        _chain_intact(fa)
