"""Redis killed, restarted empty, frozen and filled until it evicts, under a provider that
uses it: service is refused cleanly while it is away, and no security decision (revocation,
lock, logout, refresh-reuse revocation) is undone by anything Redis loses."""

from __future__ import annotations

import logging

from flask import Flask

from idp.extensions import get_store
from tests.conftest import Browser, exchange, redirect_params
from tests.faults.conftest import RedisServer, app_on
from tests.integration.citizens import LOCKED_RE, clear_wait, error_of, lock_subject


def _decisions(fa: Flask, make_user, make_client) -> dict:
    """Take every kind of security decision on `fa`; return what to check afterwards."""
    user, locked, client = make_user(), make_user(), make_client()
    browser = Browser(fa.test_client())
    browser.login(user)
    code, verifier = browser.code_for(client)
    first = exchange(fa, client, code, verifier).json
    http = fa.test_client()
    auth = (client.client_id, client.client_secret)
    assert http.post("/revoke", data={"token": first["access_token"]}, auth=auth).json == {}
    reused = http.post("/token", data={"grant_type": "refresh_token",
                                       "refresh_token": first["refresh_token"]}, auth=auth).json
    assert http.post("/token", data={"grant_type": "refresh_token", "refresh_token":
                                     first["refresh_token"]}, auth=auth).status_code == 400
    other = Browser(fa.test_client())
    other.login(user)
    code, verifier = other.code_for(client)
    logged_out = exchange(fa, client, code, verifier).json
    assert other.client.get("/logout", query_string={
        "id_token_hint": logged_out["id_token"]}).status_code == 200
    subject = lock_subject(fa, locked)
    for _ in range(5):
        error = error_of(Browser(fa.test_client()).login(locked, password="Wrong-Horse-1"))
        clear_wait(fa, subject)
    assert LOCKED_RE.match(error or "")
    return {"client": client, "auth": auth, "revoked": first["access_token"],
            "reused": reused, "logged_out": logged_out, "locked": locked}


def _still_decided(fa: Flask, d: dict) -> None:
    http = fa.test_client()
    for token in (d["revoked"], d["reused"]["access_token"], d["logged_out"]["access_token"]):
        assert http.post("/introspect", data={"token": token}, auth=d["auth"]).json == \
            {"active": False}
    for token in (d["reused"]["refresh_token"], d["logged_out"]["refresh_token"]):
        answer = http.post("/token", data={"grant_type": "refresh_token",
                                           "refresh_token": token}, auth=d["auth"])
        assert answer.json["error"] == "invalid_grant"
    right = Browser(fa.test_client()).login(d["locked"])
    assert right.status_code == 400 and LOCKED_RE.match(error_of(right) or "")


def test_redis_restarted_empty_undoes_no_security_decision(app, redis_server: RedisServer,
                                                            make_user, make_client):
    with app_on(app, redis_url=redis_server.url) as fa:
        decided = _decisions(fa, make_user, make_client)
        redis_server.restart_empty()
        get_store(fa).pause = 0.0  # do not wait out the fail-fast second
        _still_decided(fa, decided)


def test_redis_evicting_keys_undoes_no_security_decision(app, redis_server: RedisServer,
                                                          make_user, make_client, caplog):
    with app_on(app, redis_url=redis_server.url) as fa:
        decided = _decisions(fa, make_user, make_client)
        assert redis_server.fill_until_eviction() > 0
        assert get_store(fa).get("junk:0") is None  # keys really are gone
        _still_decided(fa, decided)
    with caplog.at_level(logging.WARNING), app_on(app, redis_url=redis_server.url):
        pass
    assert any("maxmemory-policy is allkeys-lru" in r.getMessage() for r in caplog.records)


def test_redis_frozen_refuses_what_needs_it_and_serves_the_rest(app, redis_server: RedisServer,
                                                                 make_user, make_client):
    user, client = make_user(), make_client()
    with app_on(app, redis_url=redis_server.url) as fa:
        browser = Browser(fa.test_client())
        browser.login(user)
        redis_server.freeze()
        try:
            person = browser.authorize(client)
            assert person.status_code == 503, person.get_data(as_text=True)[:300]
            assert dict(person.headers).get("Retry-After") == "2", dict(person.headers)
            machine = fa.test_client().post("/token", data={"grant_type": "client_credentials"},
                                            auth=(client.client_id, client.client_secret))
            assert machine.status_code == 200
        finally:
            redis_server.thaw()
        get_store(fa).pause = 0.0
        assert "code" in redirect_params(browser.authorize(client))  # it recovers


def test_redis_killed_then_back_serves_again(app, redis_server: RedisServer, make_user,
                                             make_client):
    user, client = make_user(), make_client()
    with app_on(app, redis_url=redis_server.url) as fa:
        redis_server.stop()
        browser = Browser(fa.test_client())
        page = browser.client.get("/login")
        assert page.status_code == 200
        assert browser.login(user).status_code == 503
        redis_server.start()
        get_store(fa).pause = 0.0
        assert browser.login(user).status_code == 303
        assert "code" in redirect_params(browser.authorize(client))
