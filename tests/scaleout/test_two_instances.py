"""Two `idp serve` instances on one PostgreSQL and one Redis, behind nginx: what one instance
decides (sessions, refresh-token spending and reuse, lockout, keys, logout) holds on the other.
Checks "across instances" talk to each instance by its own port, so round-robin luck cannot
make them pass; the end-to-end flow goes through nginx."""

from __future__ import annotations

import base64
import html
import json
import re
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urljoin, urlparse

import requests
from joserfc import jwt
from joserfc.jwk import KeySet

from tests.conftest import csrf_from, pkce_pair
from tests.scaleout.conftest import (
    KEY_CACHE_TTL,
    LOCKED_PASSWORD,
    LOCKED_USERNAME,
    LOCKOUT_THRESHOLD,
    PASSWORD,
    USERNAME,
    Deployment,
    Received,
    RegisteredClient,
)

TIMEOUT = 10
BACKCHANNEL_EVENT = "http://schemas.openid.net/event/backchannel-logout"
LOCKED_MESSAGE = "Too many failed attempts. You can try again after"
WRONG_MESSAGE = "The username, mobile number, ID number or password is incorrect."


# --- what a browser and a business system do, against one base URL ---
def login(http: requests.Session, base: str, username: str, password: str,
          next_url: str = "") -> requests.Response:
    """The real login form: GET /login for the CSRF token, POST identifier and password."""
    page = http.get(base + "/login", timeout=TIMEOUT)
    assert page.status_code == 200, page.text[:300]
    return http.post(base + "/login", allow_redirects=False, timeout=TIMEOUT, data={
        "csrf_token": csrf_from(page.text), "identifier": username, "password": password,
        "next": next_url})


def sign_in(base: str, username: str = USERNAME, password: str = PASSWORD) -> str:
    """Log in on `base`; the SSO session cookie."""
    with requests.Session() as http:
        response = login(http, base, username, password)
    assert response.status_code == 303, response.text[:300]
    cookie = response.cookies.get("idp_sso")
    assert cookie, response.headers
    return cookie


@dataclass
class AuthRequest:
    response: requests.Response
    state: str
    nonce: str
    verifier: str


def authorize(base: str, client: RegisteredClient, cookie: str | None) -> AuthRequest:
    """An authorization request (code + PKCE) with only the SSO cookie, if any."""
    verifier, challenge = pkce_pair()
    state, nonce = "st-" + secrets.token_hex(4), "n-" + secrets.token_hex(4)
    response = requests.get(base + "/authorize", allow_redirects=False, timeout=TIMEOUT,
                            headers={"Cookie": f"idp_sso={cookie}"} if cookie else {},
                            params={"response_type": "code", "client_id": client.client_id,
                                    "redirect_uri": client.redirect_uri,
                                    "scope": "openid profile", "state": state, "nonce": nonce,
                                    "code_challenge": challenge,
                                    "code_challenge_method": "S256"})
    return AuthRequest(response, state, nonce, verifier)


def code_from(response: requests.Response, client: RegisteredClient, state: str) -> str:
    assert response.status_code == 302, response.text[:300]
    location = response.headers["Location"]
    assert location.startswith(client.redirect_uri + "?"), location
    query = parse_qs(urlparse(location).query)
    assert query["state"] == [state], query
    return query["code"][0]


def token_request(base: str, client: RegisteredClient, **data: str) -> requests.Response:
    return requests.post(base + "/token", data=data, timeout=TIMEOUT,
                         auth=(client.client_id, client.client_secret))


def exchange(base: str, client: RegisteredClient, request: AuthRequest) -> dict[str, Any]:
    response = token_request(base, client, grant_type="authorization_code",
                             code=code_from(request.response, client, request.state),
                             redirect_uri=client.redirect_uri, code_verifier=request.verifier)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def refresh(base: str, client: RegisteredClient, refresh_token: str) -> requests.Response:
    return token_request(base, client, grant_type="refresh_token", refresh_token=refresh_token)


def introspect(base: str, client: RegisteredClient, value: str) -> dict[str, Any]:
    response = requests.post(base + "/introspect", data={"token": value}, timeout=TIMEOUT,
                             auth=(client.client_id, client.client_secret))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def userinfo_status(base: str, access_token: str) -> int:
    return requests.get(base + "/userinfo", timeout=TIMEOUT,
                        headers={"Authorization": "Bearer " + access_token}).status_code


def jwt_part(token: str, index: int) -> dict[str, Any]:
    """The decoded header (0) or payload (1) of a compact JWT."""
    segment = token.split(".")[index]
    decoded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment)
                                                                                 % 4)))
    return decoded


def tokens_on(base: str, deployment: Deployment) -> tuple[str, dict[str, Any]]:
    """Log in, authorize and exchange the code, all on one instance: (SSO cookie, tokens)."""
    cookie = sign_in(base)
    return cookie, exchange(base, deployment.client, authorize(base, deployment.client, cookie))


def kids(base: str, path: str) -> set[str]:
    response = requests.get(base + path, timeout=TIMEOUT)
    assert response.status_code == 200, response.text[:300]
    return {key["kid"] for key in response.json()["keys"]}


# --- across instances ---
def test_sso_session_from_one_instance_is_honoured_by_the_other(deployment: Deployment) -> None:
    d = deployment
    cookie = sign_in(d.a.url)

    without = authorize(d.b.url, d.client, cookie=None).response
    assert without.status_code == 302
    assert urlparse(without.headers["Location"]).path == "/login"  # the control: no session

    on_b = authorize(d.b.url, d.client, cookie)
    location = on_b.response.headers.get("Location", "")
    assert urlparse(location).path != "/login", f"B asked to log in again: {location}"
    tokens = exchange(d.a.url, d.client, on_b)  # and B's code is good on A
    claims = jwt_part(tokens["id_token"], 1)
    assert claims["sub"] == d.user_ids[USERNAME]
    assert claims["nonce"] == on_b.nonce
    assert claims["amr"] == ["pwd"]


def test_refresh_token_issued_by_one_instance_rotates_on_the_other(
        deployment: Deployment) -> None:
    d = deployment
    _cookie, first = tokens_on(d.a.url, d)

    rotated = refresh(d.b.url, d.client, first["refresh_token"])

    assert rotated.status_code == 200, rotated.text
    second = rotated.json()
    assert second["refresh_token"] and second["refresh_token"] != first["refresh_token"]
    assert jwt_part(second["access_token"], 1)["sub"] == d.user_ids[USERNAME]
    assert introspect(d.a.url, d.client, second["refresh_token"])["active"] is True
    assert introspect(d.a.url, d.client, first["refresh_token"])["active"] is False  # spent


def test_refresh_token_reuse_detected_on_one_instance_revokes_the_grant_on_both(
        deployment: Deployment) -> None:
    d = deployment
    _cookie, first = tokens_on(d.a.url, d)
    rotated = refresh(d.b.url, d.client, first["refresh_token"])
    assert rotated.status_code == 200, rotated.text
    latest = rotated.json()
    for base in (d.a.url, d.b.url):  # alive everywhere before the replay
        assert introspect(base, d.client, latest["access_token"])["active"] is True
        assert userinfo_status(base, latest["access_token"]) == 200

    replay = refresh(d.a.url, d.client, first["refresh_token"])

    assert replay.status_code == 400
    assert replay.json()["error"] == "invalid_grant"
    after = refresh(d.b.url, d.client, latest["refresh_token"])
    assert after.status_code == 400
    assert after.json()["error"] == "invalid_grant"
    for base in (d.a.url, d.b.url):
        for access_token in (first["access_token"], latest["access_token"]):
            assert introspect(base, d.client, access_token) == {"active": False}
            assert userinfo_status(base, access_token) == 401


def test_failed_logins_alternated_between_instances_lock_the_account_on_both(
        deployment: Deployment) -> None:
    d = deployment
    bases = [d.a.url, d.b.url]
    answers = []
    for attempt in range(LOCKOUT_THRESHOLD):
        with requests.Session() as http:
            answers.append(login(http, bases[attempt % 2], LOCKED_USERNAME, "Wrong-Password-1"))
    # Below the threshold the answer is "wrong password", at it the lock: counted across
    # both, since neither instance alone saw the threshold.
    for wrong in answers[:-1]:
        assert wrong.status_code == 400
        assert WRONG_MESSAGE in html.unescape(wrong.text)
    assert answers[-1].status_code == 400
    assert LOCKED_MESSAGE in html.unescape(answers[-1].text)

    for base in bases:
        with requests.Session() as http:
            right = login(http, base, LOCKED_USERNAME, LOCKED_PASSWORD)
        assert right.status_code == 400, base
        assert LOCKED_MESSAGE in html.unescape(right.text), base
        assert "idp_sso" not in right.cookies


def test_key_rotated_by_the_cli_is_published_by_both_instances_within_the_cache_ttl(
        deployment: Deployment) -> None:
    d = deployment
    config = requests.get(d.a.url + "/.well-known/openid-configuration", timeout=TIMEOUT).json()
    assert config["jwks_uri"].startswith(d.issuer + "/")
    path = urlparse(config["jwks_uri"]).path
    before = {base: kids(base, path) for base in (d.a.url, d.b.url)}  # both caches loaded
    assert before[d.a.url] == before[d.b.url] and before[d.a.url]

    output = d.idp("keys", "rotate")
    rotated_at = time.monotonic()

    new = set(re.findall(r"new key (\S+) published now", output))
    assert len(new) == 2 and not new & before[d.a.url], output
    published: dict[str, float] = {}
    deadline = rotated_at + KEY_CACHE_TTL + 5  # the cache TTL, plus a margin for the requests
    while len(published) < 2 and time.monotonic() < deadline:
        for base in (d.a.url, d.b.url):
            if base not in published and new <= kids(base, path):
                published[base] = time.monotonic() - rotated_at
        time.sleep(0.1)
    assert set(published) == {d.a.url, d.b.url}, (
        f"not published by every instance within {KEY_CACHE_TTL} s + 5 s: {published}")
    for base in (d.a.url, d.b.url):
        assert before[base] <= kids(base, path)  # the old keys stay published


def logout(base: str, cookie: str, id_token: str, timeout: float = TIMEOUT) -> requests.Response:
    """RP-initiated logout with the session's ID token as the hint (no confirmation page)."""
    return requests.get(base + "/logout", timeout=timeout, allow_redirects=False,
                        params={"id_token_hint": id_token},
                        headers={"Cookie": f"idp_sso={cookie}"})


def posts_for(deployment: Deployment, sid: str) -> list[Received]:
    return [p for p in deployment.receiver.received()
            if "logout_token" in p.form and jwt_part(p.form["logout_token"], 1).get("sid") == sid]


def check_logout_token(deployment: Deployment, post: Received, sid: str) -> None:
    d = deployment
    assert post.path == "/backchannel-logout"
    assert post.content_type == "application/x-www-form-urlencoded"
    token = post.form["logout_token"]
    header, claims = jwt_part(token, 0), jwt_part(token, 1)
    assert header["typ"] == "logout+jwt"
    assert header["kid"] in kids(d.issuer, "/jwks")
    assert claims["events"] == {BACKCHANNEL_EVENT: {}}
    assert claims["sid"] == sid
    assert claims["sub"] == d.user_ids[USERNAME]
    assert claims["aud"] == d.client.client_id
    assert claims["iss"] == d.issuer
    assert "nonce" not in claims


def test_logout_through_one_instance_sends_one_backchannel_logout_for_a_session_from_the_other(
        deployment: Deployment) -> None:
    d = deployment
    cookie, tokens = tokens_on(d.a.url, d)
    sid = jwt_part(tokens["id_token"], 1)["sid"]
    posts_before = len(d.receiver.received())

    logged_out = logout(d.b.url, cookie, tokens["id_token"])

    assert logged_out.status_code == 200, logged_out.text[:300]
    # What is still owed is sent by `idp logout deliver` (docs/events.md): run it twice, as a
    # scheduler on each node would; nothing may be sent again.
    for _ in range(2):
        assert d.idp("logout", "deliver").strip() == \
            "delivered 0 of 0 pending back-channel logout(s)"
    posts = posts_for(d, sid)
    assert len(posts) == 1, posts
    assert len(d.receiver.received()) == posts_before + 1
    assert posts[0].status == 200
    check_logout_token(d, posts[0], sid)
    # The session is over on A too, and the grant made in it is revoked.
    again = authorize(d.a.url, d.client, cookie).response
    assert again.status_code == 302
    assert urlparse(again.headers["Location"]).path == "/login"
    assert refresh(d.a.url, d.client, tokens["refresh_token"]).json()["error"] == "invalid_grant"


def test_backchannel_logout_a_business_system_missed_is_delivered_once_by_idp_logout_deliver(
        deployment: Deployment) -> None:
    d = deployment
    cookie, tokens = tokens_on(d.a.url, d)
    sid = jwt_part(tokens["id_token"], 1)["sid"]
    d.receiver.refuse_next(1)  # the business system is down when the session ends

    logged_out = logout(d.b.url, cookie, tokens["id_token"])

    assert logged_out.status_code == 200, logged_out.text[:300]
    assert [p.status for p in posts_for(d, sid)] == [503]  # tried at once, refused: owed
    assert d.idp("logout", "deliver").strip() == "delivered 1 of 1 pending back-channel logout(s)"
    assert d.idp("logout", "deliver").strip() == "delivered 0 of 0 pending back-channel logout(s)"
    posts = posts_for(d, sid)
    assert [p.status for p in posts] == [503, 200]
    check_logout_token(d, posts[1], sid)


def test_backchannel_logout_still_in_flight_is_not_sent_again_by_idp_logout_deliver(
        deployment: Deployment) -> None:
    """A business system slow to answer the logout token B sends when the session ends, while
    the scheduled `idp logout deliver` runs (on the other node): one logout token, not two."""
    d = deployment
    cookie, tokens = tokens_on(d.a.url, d)
    sid = jwt_part(tokens["id_token"], 1)["sid"]
    d.receiver.hold_next()
    answered: list[requests.Response] = []
    logging_out = threading.Thread(target=lambda: answered.append(
        logout(d.b.url, cookie, tokens["id_token"], timeout=60)))
    logging_out.start()
    try:
        assert d.receiver.arrived.wait(30), "B sent no back-channel logout"
        d.idp("logout", "deliver")  # while B's delivery waits for its answer
    finally:
        d.receiver.release()
        logging_out.join(60)

    assert [r.status_code for r in answered] == [200]
    posts = posts_for(d, sid)
    assert len(posts) == 1, f"the logout token for {sid} was sent {len(posts)} times"
    check_logout_token(d, posts[0], sid)


# --- through nginx ---
def test_authorization_code_flow_through_nginx_works_end_to_end(deployment: Deployment) -> None:
    d = deployment
    issuer = d.issuer
    served_by: list[str] = []

    def seen(response: requests.Response) -> requests.Response:
        served_by.append(response.headers.get("X-Upstream", ""))
        return response

    config = seen(requests.get(issuer + "/.well-known/openid-configuration",
                               timeout=TIMEOUT)).json()
    assert config["issuer"] == issuer
    assert config["authorization_endpoint"] == issuer + "/authorize"
    assert config["token_endpoint"] == issuer + "/token"
    verifier, challenge = pkce_pair()
    state, nonce = "st-" + secrets.token_hex(4), "n-" + secrets.token_hex(4)
    with requests.Session() as browser:
        first = seen(browser.get(config["authorization_endpoint"], allow_redirects=False,
                                 timeout=TIMEOUT, params={
                                     "response_type": "code", "client_id": d.client.client_id,
                                     "redirect_uri": d.client.redirect_uri,
                                     "scope": "openid profile", "state": state, "nonce": nonce,
                                     "code_challenge": challenge,
                                     "code_challenge_method": "S256"}))
        assert first.status_code == 302
        login_page = urljoin(issuer + "/", first.headers["Location"])
        assert urlparse(login_page).path == "/login"
        page = seen(browser.get(login_page, timeout=TIMEOUT))
        assert page.status_code == 200
        match = re.search(r'name="next"[^>]*value="([^"]+)"', page.text)
        assert match, page.text[:500]
        posted = seen(browser.post(issuer + "/login", allow_redirects=False, timeout=TIMEOUT,
                                   data={"csrf_token": csrf_from(page.text),
                                         "identifier": USERNAME, "password": PASSWORD,
                                         "next": html.unescape(match.group(1))}))
        assert posted.status_code == 303, posted.text[:300]
        back = seen(browser.get(urljoin(issuer + "/", posted.headers["Location"]),
                                allow_redirects=False, timeout=TIMEOUT))
        code = code_from(back, d.client, state)

    exchanged = seen(requests.post(config["token_endpoint"], timeout=TIMEOUT,
                                   auth=(d.client.client_id, d.client.client_secret),
                                   data={"grant_type": "authorization_code", "code": code,
                                         "redirect_uri": d.client.redirect_uri,
                                         "code_verifier": verifier}))
    assert exchanged.status_code == 200, exchanged.text
    tokens = exchanged.json()
    keys = KeySet.import_key_set(seen(requests.get(config["jwks_uri"], timeout=TIMEOUT)).json())
    claims = jwt.decode(tokens["id_token"], keys, algorithms=["RS256"]).claims
    assert claims["iss"] == issuer
    assert claims["aud"] == d.client.client_id
    assert claims["nonce"] == nonce
    assert claims["sub"] == d.user_ids[USERNAME]
    info = seen(requests.get(config["userinfo_endpoint"], timeout=TIMEOUT,
                             headers={"Authorization": "Bearer " + tokens["access_token"]}))
    assert info.status_code == 200, info.text
    assert info.json()["sub"] == claims["sub"]
    # Round robin: the flow crossed both instances (the login form from one, its POST or the
    # code exchange on the other).
    assert set(served_by) == {f"127.0.0.1:{d.a.port}", f"127.0.0.1:{d.b.port}"}, served_by


def test_audit_chain_written_by_both_instances_stays_intact(deployment: Deployment) -> None:
    assert deployment.idp("audit", "verify").strip() == "audit chain intact"
