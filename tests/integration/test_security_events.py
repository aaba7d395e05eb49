"""Security events to business systems (OpenID Shared Signals, issue 12): an account change
queues one Security Event Token (RFC 8417) per business system that knows the person, under
the `sub` that system knows, in the change's own transaction; push delivery (RFC 8935) keeps
them for a system that is down and sends them all, in order, when it is back, one sender at a
time; poll delivery (RFC 8936) returns and acknowledges them; the transmitter metadata and
stream (SSF 1.0 §7, §8.1.1); the SDK and the sample business system verify what they receive.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask, request
from jose import jwt as jose_jwt
from sqlalchemy import select, update

from clients.sample_rp import create_rp
from clients.sdk import OidcClient, SecurityEventError
from idp.audit.actors import Actor
from idp.audit.tags import Tag
from idp.extensions import db
from idp.oauth.models import SecurityEvent
from tests.conftest import Browser, LiveServer, free_port, remember_secret, token_request
from tests.integration.citizens import audit_events, csrf, enrol_totp
from tests.integration.helpers import tokens_for

RISC = "https://schemas.openid.net/secevent/risc/event-type/"
CAEP = "https://schemas.openid.net/secevent/caep/event-type/"
NEW_PASSWORD = "Another-Horse-77"


# --- helpers ---
def _events(client_id: str | None = None) -> list[SecurityEvent]:
    db.session.expire_all()
    query = select(SecurityEvent).order_by(SecurityEvent.id)
    if client_id is not None:
        query = query.where(SecurityEvent.client_id == client_id)
    return list(db.session.execute(query).scalars())


def _claims(event: SecurityEvent) -> dict[str, Any]:
    return dict(json.loads(event.payload))


def _event_of(claims: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    [(uri, body)] = claims["events"].items()
    return uri, {k: v for k, v in body.items() if k != "event_timestamp"}


def _account(app: Flask, user: Any) -> Any:
    return app.extensions["idp.accounts"].get(user.id)


def _change_password(app: Flask, user: Any) -> None:
    remember_secret(NEW_PASSWORD)
    app.extensions["idp.accounts"].change_password(_account(app, user), NEW_PASSWORD, None)
    db.session.commit()


def _signed_in_browser(app: Flask, user: Any) -> Any:
    browser = Browser(app.test_client())
    assert browser.login(user).status_code == 303
    return browser


def _change_password_on_the_web(browser: Any, user: Any) -> Any:
    remember_secret(NEW_PASSWORD)
    browser.client.get("/account/password")
    return browser.client.post("/account/password", data={
        "csrf_token": csrf(browser), "current": user.password, "password": NEW_PASSWORD,
        "confirm": NEW_PASSWORD})


def _basic(client: Any) -> dict[str, str]:
    raw = f"{client.client_id}:{client.client_secret}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


def _poll(app: Flask, client: Any, body: Any = None, headers: dict[str, str] | None = None,
          **kwargs: Any) -> Any:
    return app.test_client().post("/ssf/poll", json=body if body is not None else {},
                                  headers=headers if headers is not None else _basic(client),
                                  **kwargs)


def _deliver(app: Flask, *args: str) -> str:
    result = app.test_cli_runner().invoke(args=["events", "deliver", *args])
    assert result.exit_code == 0, result.output
    return str(result.stdout.strip())


class Receiver:
    """A business system's push endpoint (the sample business system, verifying with the
    SDK) on a port that is closed until `start`, then answering 503 while `unavailable`."""

    def __init__(self, issuer: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.issuer = issuer
        self.unavailable = False
        self.server: LiveServer | None = None
        self.rp: Flask | None = None

    def start(self, client: Any) -> None:
        self.rp = create_rp(issuer=self.issuer, client_id=client.client_id,
                            client_secret=client.client_secret, base_url=self.url)
        inner = self.rp.wsgi_app

        def gate(environ: dict[str, Any], start_response: Any) -> Any:
            if self.unavailable:
                start_response("503 Service Unavailable", [("Content-Length", "0")])
                return [b""]
            return inner(environ, start_response)

        self.rp.wsgi_app = gate  # type: ignore[method-assign]
        self.server = LiveServer(self.rp, self.port)

    @property
    def received(self) -> list[dict[str, Any]]:
        assert self.rp is not None
        return list(self.rp.extensions["rp_state"].security_events)

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()


@pytest.fixture
def receiver(live_provider: LiveServer) -> Iterator[Receiver]:
    found = Receiver(live_provider.url)
    yield found
    found.stop()


# --- queueing ---
def test_a_password_change_queues_one_set_per_system_that_knows_the_person_under_its_sub(
        app, browser, provider, make_user, make_client):
    user = make_user()
    social = make_client(redirect_uri="https://social.example.gov.cn/cb",
                         events_uri="https://social.example.gov.cn/events")
    housing = make_client(redirect_uri="https://housing.example.gov.cn/cb",
                          subject_type="pairwise", events_delivery="poll")
    consented = make_client(redirect_uri="https://tax.example.gov.cn/cb",
                            events_uri="https://tax.example.gov.cn/events")
    silent = make_client(redirect_uri="https://fund.example.gov.cn/cb")  # no events wanted
    stranger = make_client(redirect_uri="https://land.example.gov.cn/cb", events_delivery="poll")
    id_tokens = {c.client_id: jose_jwt.get_unverified_claims(
        tokens_for(app, browser, user, c)["id_token"]) for c in (social, housing, silent)}
    app.extensions["idp.authorizations"].remember(user.id, consented.client_id, "openid")
    db.session.commit()

    _change_password(app, user)

    events = {e.client_id: e for e in _events()}
    assert set(events) == {social.client_id, housing.client_id, consented.client_id}
    assert stranger.client_id not in events
    claims = {cid: _claims(e) for cid, e in events.items()}
    # the sub each system knows: the ID token's (pairwise for housing), or the public one
    assert claims[social.client_id]["sub_id"] == {
        "format": "iss_sub", "iss": provider.settings.issuer,
        "sub": id_tokens[social.client_id]["sub"]}
    assert claims[housing.client_id]["sub_id"]["sub"] == id_tokens[housing.client_id]["sub"]
    assert id_tokens[housing.client_id]["sub"] != user.id
    assert claims[consented.client_id]["sub_id"]["sub"] == user.id
    for client_id, c in claims.items():
        assert c["aud"] == client_id and c["iss"] == provider.settings.issuer
        assert "sub" not in c and "exp" not in c  # SSF 1.0 §4.1.2, §4.1.6
        assert c["events"] == {CAEP + "credential-change": {
            "credential_type": "password", "change_type": "update",
            "initiating_entity": "user", "event_timestamp": c["iat"]}}
        assert events[client_id].status == "pending" and events[client_id].jti == c["jti"]
    assert len({c["jti"] for c in claims.values()}) == 3
    assert len({c["txn"] for c in claims.values()}) == 1  # one change behind all three


def test_nothing_is_queued_when_the_change_rolls_back(app, browser, make_user, make_client):
    user = make_user()
    client = make_client(events_delivery="poll")
    tokens_for(app, browser, user, client)
    remember_secret(NEW_PASSWORD)
    app.extensions["idp.accounts"].change_password(_account(app, user), NEW_PASSWORD, None)
    assert len(_events()) == 1  # flushed in the change's transaction …
    db.session.rollback()
    assert _events() == []  # … and gone with it
    assert _browser_login_works(app, user)


def _browser_login_works(app: Flask, user: Any) -> bool:
    return bool(Browser(app.test_client()).login(user).status_code == 303)


def test_each_account_change_becomes_its_risc_or_caep_event_and_nothing_personal(
        app, browser, make_user, make_client):
    user = make_user(phone="13812345678", name="李四")
    client = make_client(events_delivery="poll")
    tokens_for(app, browser, user, client)
    accounts, mfa = app.extensions["idp.accounts"], app.extensions["idp.mfa"]
    identity, clock = app.extensions["idp.identity"], app.extensions["idp.clock"]
    web = _signed_in_browser(app, user)
    enrolled = enrol_totp(web)
    remember_secret(enrolled.secret, *enrolled.recovery_codes)
    account = _account(app, user)
    mfa.remove_totp(account, Actor.staff("s-1", "440100"), None)
    accounts.change_phone(account, "13712345678", actor=Actor.citizen(user.id), ip=None,
                          via="old_phone")
    accounts.end_every_session(account, Actor.operator("tests"), clock.seconds())
    identity.override(account, 3, reason="checked at the counter", actor=Actor.operator("t"))
    identity.recompute(account)  # the same level again: nothing to tell
    db.session.commit()

    assert [_event_of(_claims(e)) for e in _events()] == [
        (CAEP + "credential-change", {"credential_type": "app", "change_type": "create",
                                      "initiating_entity": "user"}),
        (CAEP + "credential-change", {"credential_type": "app", "change_type": "delete",
                                      "initiating_entity": "admin"}),
        (RISC + "recovery-information-changed", {}),
        (CAEP + "session-revoked", {"initiating_entity": "admin"}),
        (CAEP + "assurance-level-change", {"namespace": "urn:gd:gov:idp:trust-level",
                                           "current_level": "3", "previous_level": "2",
                                           "change_direction": "increase"}),
    ]
    stored = " ".join(e.payload for e in _events())
    for personal in ("13812345678", "13712345678", "李四", user.username, "$argon2",
                     account.password_hash):
        assert personal not in stored


# --- push ---
def test_a_change_is_pushed_right_after_the_request_that_made_it(app, make_user,
                                                                 make_client, receiver):
    user = make_user()
    client = make_client(redirect_uri=receiver.url + "/callback",
                         events_uri=receiver.url + "/events")
    receiver.start(client)
    web = _signed_in_browser(app, user)
    tokens_for(app, web, user, client)
    assert _change_password_on_the_web(web, user).status_code == 303
    [event] = _events()
    assert (event.status, event.attempts) == ("delivered", 1)
    assert [c["jti"] for c in receiver.received] == [event.jti]
    assert receiver.received[0]["sub_id"]["sub"] == user.id


def test_a_system_down_for_the_whole_test_gets_every_event_in_order_when_it_returns(
        app, make_user, make_client, receiver):
    user = make_user()
    client = make_client(redirect_uri=receiver.url + "/callback",
                         events_uri=receiver.url + "/events")
    web = _signed_in_browser(app, user)
    tokens_for(app, web, user, client)
    clock = app.extensions["idp.clock"]
    # the port is closed: the attempt right after the request fails, and the event waits
    assert _change_password_on_the_web(web, user).status_code == 303
    [first] = _events()
    assert (first.status, first.attempts, first.last_error) == ("pending", 1,
                                                               "connection failed")
    # later changes queue behind it and are not tried before it
    enrol_totp(web)
    result = app.test_cli_runner().invoke(args=["users", "logout", "--username",
                                                user.username])
    assert result.exit_code == 0, result.output
    assert [e.attempts for e in _events()] == [1, 0, 0]
    assert _deliver(app) == "delivered 0, refused 0, failed 0 (retried later), not attempted 0"

    receiver.unavailable = True
    receiver.start(client)  # up, but answering 503
    clock.advance(31)
    assert _deliver(app) == "delivered 0, refused 0, failed 1 (retried later), not attempted 2"
    assert [(e.status, e.attempts) for e in _events()] == [("pending", 2), ("pending", 0),
                                                           ("pending", 0)]
    status = app.test_cli_runner().invoke(args=["events", "status", "--client-id",
                                                client.client_id])
    assert status.exit_code == 0, (status.output, status.exception)
    assert status.stdout.strip() == (f"{client.client_id}: push, delivered 0, failed 0, "
                                     "pending 3, last error: HTTP 503")
    assert _deliver(app) == "delivered 0, refused 0, failed 0 (retried later), not attempted 0"

    receiver.unavailable = False
    clock.advance(61)  # past the second backoff (60 s)
    assert _deliver(app) == "delivered 3, refused 0, failed 0 (retried later), not attempted 0"
    events = _events()
    assert [e.status for e in events] == ["delivered"] * 3
    assert [c["jti"] for c in receiver.received] == [e.jti for e in events]
    assert [_event_of(c)[0] for c in receiver.received] == [
        CAEP + "credential-change", CAEP + "credential-change", CAEP + "session-revoked"]
    assert {c["sub_id"]["sub"] for c in receiver.received} == {user.id}
    status = app.test_cli_runner().invoke(args=["events", "status", "--client-id",
                                                client.client_id])
    assert status.exit_code == 0, (status.output, status.exception)
    assert status.stdout.strip() == (f"{client.client_id}: push, delivered 3, failed 0, "
                                     "pending 0")


@pytest.fixture
def scripted_receiver() -> Iterator[LiveServer]:
    """A push endpoint answering from a script: each POST takes the next answer (then 202);
    the first POST can be held until released (at most 10 s)."""
    state: dict[str, Any] = {"answers": [], "received": [], "hold": False,
                             "arrived": threading.Event(), "release": threading.Event()}
    rp = Flask("scripted-receiver")

    @rp.post("/events")
    def events() -> Any:
        state["received"].append(request.get_data(as_text=True))
        if state["hold"] and len(state["received"]) == 1:
            state["arrived"].set()
            state["release"].wait(10)
        return state["answers"].pop(0) if state["answers"] else ("", 202)

    server = LiveServer(rp)
    server.state = state  # type: ignore[attr-defined]
    yield server
    state["release"].set()
    server.stop()


def _three_events_for(app, browser, make_user, make_client, url: str) -> tuple[Any, Any]:
    user = make_user()
    client = make_client(events_uri=url + "/events")
    tokens_for(app, browser, user, client)
    account = _account(app, user)
    accounts = app.extensions["idp.accounts"]
    for _ in range(3):
        accounts.end_every_session(account, Actor.operator("tests"), 0)
    db.session.commit()
    return user, client


def test_two_senders_at_once_never_send_an_event_twice_or_out_of_order(
        app, browser, make_user, make_client, scripted_receiver):
    state = scripted_receiver.state
    state["hold"] = True
    _user, client = _three_events_for(app, browser, make_user, make_client,
                                      scripted_receiver.url)
    pusher = app.extensions["idp.security_events"].pusher
    first: dict[str, Any] = {}

    def run() -> None:
        with app.app_context():
            first["report"] = pusher.deliver()

    sender = threading.Thread(target=run)
    sender.start()
    assert state["arrived"].wait(10)
    second = pusher.deliver()  # the system's queue is held by the first sender: skipped
    assert (second.delivered, second.failed, second.not_attempted) == (0, 0, 0)
    state["release"].set()
    sender.join(10)
    assert first["report"].delivered == 3
    events = _events(client.client_id)
    assert [jose_jwt.get_unverified_claims(t)["jti"] for t in state["received"]] == \
        [e.jti for e in events]
    assert [e.status for e in events] == ["delivered"] * 3


def test_a_set_the_receiver_refuses_is_given_up_audited_and_can_be_sent_again(
        app, browser, make_user, make_client, scripted_receiver):
    state = scripted_receiver.state
    state["answers"] = [({"err": "invalid_key", "description": "unknown kid"}, 400)]
    _user, client = _three_events_for(app, browser, make_user, make_client,
                                      scripted_receiver.url)
    assert _deliver(app) == "delivered 2, refused 1, failed 0 (retried later), not attempted 0"
    events = _events(client.client_id)
    assert [e.status for e in events] == ["failed", "delivered", "delivered"]
    assert events[0].last_error == "400 invalid_key: unknown kid"
    [failed] = audit_events(Tag.SECURITY_EVENT_FAILED.value)
    assert (failed.client_id, failed.data["jti"]) == (client.client_id, events[0].jti)
    retried = app.test_cli_runner().invoke(args=["events", "retry", "--client-id",
                                                 client.client_id])
    assert retried.stdout.strip() == f"1 event(s) of {client.client_id} will be sent again"
    assert _deliver(app) == "delivered 1, refused 0, failed 0 (retried later), not attempted 0"
    assert [e.status for e in _events(client.client_id)] == ["delivered"] * 3
    assert len(audit_events(Tag.SECURITY_EVENTS_RETRIED.value)) == 1


# --- poll ---
def test_poll_returns_the_oldest_sets_and_acknowledged_ones_are_not_returned_again(
        app, browser, make_user, make_client, live_provider):
    user = make_user()
    client = make_client(events_delivery="poll")
    other = make_client(redirect_uri="https://other.example.gov.cn/cb", events_delivery="poll")
    for c in (client, other):
        tokens_for(app, browser, user, c)
    for _ in range(3):
        app.extensions["idp.accounts"].end_every_session(_account(app, user),
                                                         Actor.operator("t"), 0)
    db.session.commit()
    mine = [e.jti for e in _events(client.client_id)]
    theirs = [e.jti for e in _events(other.client_id)]

    page = _poll(app, client, {"maxEvents": 2, "returnImmediately": True})
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert list(page.json["sets"]) == mine[:2] and page.json["moreAvailable"] is True
    sdk = OidcClient(issuer=live_provider.url, client_id=client.client_id)
    for jti, token in page.json["sets"].items():
        remember_secret(token)
        assert sdk.verify_security_event(token)["jti"] == jti
    # acknowledging another system's SET changes nothing of it
    page = _poll(app, client, {"ack": [*mine[:2], theirs[0]]})
    assert list(page.json["sets"]) == mine[2:] and page.json["moreAvailable"] is False
    page = _poll(app, client, {"ack": mine[2:], "maxEvents": 0})
    assert page.json == {"sets": {}, "moreAvailable": False}
    assert [(e.status, e.acknowledged_at is not None) for e in _events(client.client_id)] == \
        [("delivered", True)] * 3
    assert [e.status for e in _events(other.client_id)] == ["pending"] * 3


def test_poll_records_the_receivers_errors_and_takes_a_client_credentials_token(
        app, browser, make_user, make_client):
    user = make_user()
    client = make_client(events_delivery="poll")
    tokens_for(app, browser, user, client)
    _change_password(app, user)
    [event] = _events()
    access = token_request(app, client, grant_type="client_credentials").json["access_token"]
    page = _poll(app, client, {"setErrs": {event.jti: {"err": "invalid_key",
                                                       "description": "unknown kid"}}},
                 headers={"Authorization": "Bearer " + access})
    assert page.json == {"sets": {}, "moreAvailable": False}
    [event] = _events()
    assert (event.status, event.last_error) == ("failed", "receiver: invalid_key: unknown kid")
    [failed] = audit_events(Tag.SECURITY_EVENT_FAILED.value)
    assert (failed.actor, failed.data) == (f"client:{client.client_id}", {
        "jti": event.jti, "error": "receiver: invalid_key: unknown kid"})


@pytest.mark.parametrize(("body", "content_type"), [
    (b"[]", "application/json"), (b'{"maxEvents": -1}', "application/json"),
    (b'{"maxEvents": true}', "application/json"), (b'{"ack": "abc"}', "application/json"),
    (b'{"returnImmediately": "yes"}', "application/json"),
    (b'{"setErrs": {"x": "invalid"}}', "application/json"),
    (b"{not json", "application/json"), (b"ack=abc", "application/x-www-form-urlencoded")])
def test_a_malformed_poll_request_is_invalid_request(app, make_client, body, content_type):
    client = make_client(events_delivery="poll")
    response = app.test_client().post("/ssf/poll", data=body, content_type=content_type,
                                      headers=_basic(client))
    assert response.status_code == 400
    assert response.json["err"] == "invalid_request"


def test_poll_needs_the_business_systems_own_credentials_and_poll_delivery(app, make_client):
    client = make_client(events_delivery="poll")
    pusher = make_client(events_uri="https://rp.example.gov.cn/events")
    anonymous = app.test_client().post("/ssf/poll", json={})
    assert anonymous.status_code == 401 and anonymous.json["err"] == "authentication_failed"
    assert anonymous.headers["WWW-Authenticate"] == 'Basic realm="ssf", Bearer realm="ssf"'
    wrong = _poll(app, client, headers=_basic(type(client)(client.client_id, "wrong", "")))
    assert wrong.status_code == 401
    refused = _poll(app, pusher)
    assert refused.status_code == 403 and refused.json["err"] == "access_denied"


# --- metadata and streams ---
def test_the_transmitter_metadata_names_keys_delivery_methods_and_the_stream_endpoint(
        app, provider):
    iss = provider.settings.issuer
    response = app.test_client().get("/.well-known/ssf-configuration")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.json == {
        "spec_version": "1_0", "issuer": iss, "jwks_uri": iss + "/jwks",
        "delivery_methods_supported": ["urn:ietf:rfc:8935", "urn:ietf:rfc:8936"],
        "configuration_endpoint": iss + "/ssf/stream",
        "authorization_schemes": [{"spec_urn": "urn:ietf:rfc:6749"}],
        "default_subjects": "ALL"}


def test_a_business_system_reads_the_stream_its_registration_defines(app, provider,
                                                                      make_client):
    iss = provider.settings.issuer
    pushed = make_client(name="社保业务系统", events_uri="https://social.example.gov.cn/events")
    polled = make_client(events_delivery="poll")
    without = make_client()
    reader = app.test_client()
    listed = reader.get("/ssf/stream", headers=_basic(pushed))
    assert listed.status_code == 200 and len(listed.json) == 1
    stream = listed.json[0]
    assert stream["stream_id"] == stream["aud"] == pushed.client_id
    assert stream["iss"] == iss and stream["description"] == "社保业务系统"
    assert stream["delivery"] == {"method": "urn:ietf:rfc:8935",
                                  "endpoint_url": "https://social.example.gov.cn/events"}
    assert stream["events_delivered"] == stream["events_supported"] == [
        RISC + "account-disabled", RISC + "account-enabled", RISC + "account-purged",
        RISC + "recovery-information-changed", CAEP + "credential-change",
        CAEP + "session-revoked", CAEP + "assurance-level-change"]
    one = reader.get("/ssf/stream", query_string={"stream_id": polled.client_id},
                     headers=_basic(polled))
    assert one.json["delivery"] == {"method": "urn:ietf:rfc:8936",
                                    "endpoint_url": iss + "/ssf/poll"}
    assert reader.get("/ssf/stream", query_string={"stream_id": pushed.client_id},
                      headers=_basic(polled)).status_code == 404
    assert reader.get("/ssf/stream", headers=_basic(without)).json == []
    assert reader.get("/ssf/stream").status_code == 401
    created = reader.post("/ssf/stream", json={"delivery": {"method": "urn:ietf:rfc:8936"}},
                          headers=_basic(pushed))
    assert created.status_code == 403 and created.json["err"] == "access_denied"


# --- registration ---
def test_clients_create_takes_an_https_events_uri_or_poll(app):
    runner = app.test_cli_runner()
    base = ["clients", "create", "--name", "社保", "--redirect-uri",
            "https://social.example.gov.cn/cb", "--json"]
    pushed = runner.invoke(args=[*base, "--events-uri", "https://social.example.gov.cn/events"])
    assert pushed.exit_code == 0, pushed.output
    out = json.loads(pushed.stdout)
    remember_secret(out["client_secret"])
    assert (out["events_delivery"], out["events_uri"]) == (
        "push", "https://social.example.gov.cn/events")
    polled = runner.invoke(args=[*base, "--events-poll"])
    remember_secret(json.loads(polled.stdout)["client_secret"])
    assert json.loads(polled.stdout)["events_delivery"] == "poll"
    plain = runner.invoke(args=[*base, "--events-uri", "http://social.example.gov.cn/events"])
    assert plain.exit_code == 2
    assert "events URI must use https" in plain.stderr
    public = runner.invoke(args=[*base, "--auth-method", "none", "--events-poll"])
    assert public.exit_code == 2
    assert "a public client cannot poll for security events" in public.stderr


def test_events_configure_changes_how_a_registered_system_receives_them(app, make_client):
    client = make_client()
    runner = app.test_cli_runner()
    done = runner.invoke(args=["events", "configure", "--client-id", client.client_id,
                               "--events-uri", "https://rp.example.gov.cn/events"])
    assert done.stdout.strip() == (f"{client.client_id}: security events by push to "
                                   "https://rp.example.gov.cn/events")
    assert app.extensions["idp.provider"].clients.get(client.client_id).events_delivery == "push"
    off = runner.invoke(args=["events", "configure", "--client-id", client.client_id, "--off"])
    assert off.stdout.strip() == f"{client.client_id}: security events off"
    both = runner.invoke(args=["events", "configure", "--client-id", client.client_id,
                               "--off", "--events-poll"])
    assert both.exit_code == 2
    assert len(audit_events(Tag.CLIENT_EVENTS_CHANGED.value)) == 2


# --- the SDK and the sample business system ---
def _polled_set(app: Flask, browser: Any, user: Any, client: Any) -> str:
    tokens_for(app, browser, user, client)
    _change_password(app, user)
    [token] = _poll(app, client).json["sets"].values()
    remember_secret(token)
    return str(token)


def _forged(token: str) -> str:
    """The same header and claims, signed by a key that is not the provider's."""
    header = jose_jwt.get_unverified_header(token)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    return str(jose_jwt.encode(jose_jwt.get_unverified_claims(token), pem, algorithm="RS256",
                               headers={"kid": header["kid"], "typ": "secevent+jwt"}))


def test_the_sdk_accepts_a_genuine_set_and_rejects_a_bad_signature_or_another_audience(
        app, browser, make_user, make_client, live_provider):
    user = make_user()
    client = make_client(events_delivery="poll")
    token = _polled_set(app, browser, user, client)
    mine = OidcClient(issuer=live_provider.url, client_id=client.client_id)
    assert mine.verify_security_event(token)["sub_id"]["sub"] == user.id
    with pytest.raises(SecurityEventError) as forged:
        mine.verify_security_event(_forged(token))
    assert forged.value.err == "invalid_key"
    head, _payload, signature = token.split(".")
    claims = {**jose_jwt.get_unverified_claims(token), "sub_id": {
        "format": "iss_sub", "iss": live_provider.url, "sub": "someone-else"}}
    payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    with pytest.raises(SecurityEventError) as altered:
        mine.verify_security_event(f"{head}.{payload}.{signature}")
    assert altered.value.err == "invalid_key"
    elsewhere = OidcClient(issuer=live_provider.url, client_id="another-business-system")
    with pytest.raises(SecurityEventError) as audience:
        elsewhere.verify_security_event(token)
    assert audience.value.err == "invalid_audience"
    id_token = tokens_for(app, browser, user, client)["id_token"]
    with pytest.raises(SecurityEventError) as typed:
        mine.verify_security_event(id_token)
    assert typed.value.err == "invalid_request"


def test_the_sample_business_system_answers_202_or_the_rfc_error_and_lists_the_events(
        app, browser, make_user, make_client, live_provider):
    user = make_user()
    client = make_client(events_delivery="poll")
    token = _polled_set(app, browser, user, client)
    rp = create_rp(issuer=live_provider.url, client_id=client.client_id,
                   client_secret=client.client_secret, base_url="http://127.0.0.1:9")
    other = create_rp(issuer=live_provider.url, client_id="another-business-system",
                      client_secret="x", base_url="http://127.0.0.1:9")
    headers = {"Content-Type": "application/secevent+jwt", "Accept": "application/json"}
    accepted = rp.test_client().post("/events", data=token, headers=headers)
    assert accepted.status_code == 202
    again = rp.test_client().post("/events", data=token, headers=headers)
    assert again.status_code == 202  # a repeat (at-least-once delivery) is not a second event
    assert len(rp.extensions["rp_state"].security_events) == 1
    wrong = other.test_client().post("/events", data=token, headers=headers)
    assert wrong.status_code == 400
    assert wrong.json == {"err": "invalid_audience",
                          "description": "the SET is for another audience"}
    forged = rp.test_client().post("/events", data=_forged(token), headers=headers)
    assert forged.json["err"] == "invalid_key"
    untyped = rp.test_client().post("/events", data=token, content_type="text/plain")
    assert untyped.json["err"] == "invalid_request"
    page = rp.test_client().get("/").get_data(as_text=True)
    assert f"<td>{user.id}</td><td>credential-change</td>" in page


def test_tokens_purge_removes_settled_events_past_retention_and_keeps_pending_ones(
        app, browser, make_user, make_client):
    _user, client = _three_events_for(app, browser, make_user, make_client,
                                      "https://rp.example.gov.cn")
    old, recent, pending = [e.id for e in _events(client.client_id)]
    long_ago = datetime.now(UTC) - timedelta(days=31)
    db.session.execute(update(SecurityEvent).where(SecurityEvent.id.in_([old, pending]))
                       .values(created_at=long_ago))
    db.session.execute(update(SecurityEvent).where(SecurityEvent.id.in_([old, recent]))
                       .values(status="delivered"))
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["tokens", "purge"])
    assert result.exit_code == 0, result.output
    assert "1 security events" in result.stdout.splitlines()[-1]
    assert [e.id for e in _events(client.client_id)] == [recent, pending]


def test_disable_enable_and_purge_reach_the_system_and_purged_is_the_last_word(
        app, browser, make_user, make_client):
    user = make_user(trust_level=4)
    client = make_client(events_delivery="poll")
    tokens_for(app, browser, user, client)
    lifecycle, clock = app.extensions["idp.lifecycle"], app.extensions["idp.clock"]
    operator = Actor.operator("tests")
    lifecycle.disable(_account(app, user), actor=operator, reason="reported stolen")
    lifecycle.enable(_account(app, user), actor=operator, reason="owner came to the counter")
    db.session.commit()
    lifecycle.request_deletion(_account(app, user), None)
    clock.advance(16 * 24 * 3600)  # past the cooling-off period
    assert lifecycle.purge(user.id)
    kinds = [_event_of(_claims(e))[0].rsplit("/", 1)[-1] for e in _events()]
    # disabling and requesting deletion end every session first; the level the erasure drops
    # is not announced: account-purged is the last event about the person
    assert kinds == ["session-revoked", "account-disabled", "account-enabled",
                     "session-revoked", "account-purged"]
    assert {_claims(e)["sub_id"]["sub"] for e in _events()} == {user.id}
