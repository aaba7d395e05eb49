"""Clocks and SSO sessions across nodes: a login served by a node whose clock differs does
not loop the person back to the login page; max_age, token expiry and private_key_jwt allow
IDP_CLOCK_LEEWAY; session updates are compare-and-set, so a racing request never resurrects
an ended session or drops another's change; sessions written by a newer version decode."""

from __future__ import annotations

import json
import time
import uuid

from joserfc import jwt
from joserfc.jwk import RSAKey

from idp.audit.actors import Actor
from idp.extensions import get_store
from idp.oauth.tokens import TokenService
from tests.conftest import remember_secret
from tests.integration.citizens import sid_of
from tests.integration.helpers import introspect, tokens_for

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def _shift_session(app, browser, **changes: int) -> None:
    """Rewrite the stored session's times, as a node with another clock would have."""
    store, key = get_store(app), "sso:" + sid_of(browser)
    data = json.loads(store.get(key))
    for name, delta in changes.items():
        data[name] += delta
    store.set(key, json.dumps(data), 600)


def _login_again(browser, user, location: str):
    assert location.startswith("/login?")
    from urllib.parse import parse_qs, urlparse

    next_url = parse_qs(urlparse(location).query)["next"][0]
    done = browser.login(user, next_url=next_url)
    assert done.status_code == 303
    return done.headers["Location"]


def test_a_login_stamped_by_a_node_60_seconds_behind_does_not_loop(app, browser, make_user,
                                                                     make_client):
    user, client = make_user(), make_client()
    browser.login(user)
    asked = browser.authorize(client, prompt="login")
    back = _login_again(browser, user, asked.headers["Location"])
    _shift_session(app, browser, auth_time=-60, created=-60)  # that node's clock is behind
    answer = browser.client.get(back)
    assert answer.status_code == 302
    assert "code=" in answer.headers["Location"]


def test_max_age_allows_the_clock_leeway_and_no_more(app, browser, make_user, make_client,
                                                     provider):
    user, client = make_user(), make_client()
    browser.login(user)
    leeway = provider.settings.clock_leeway
    _shift_session(app, browser, auth_time=-(100 + leeway - 5))
    within = browser.authorize(client, max_age="100")
    assert within.status_code == 302 and "code=" in within.headers["Location"]
    _shift_session(app, browser, auth_time=-10)  # now 100 + leeway + 5 seconds ago
    beyond = browser.authorize(client, max_age="100")
    assert beyond.status_code == 302 and beyond.headers["Location"].startswith("/login?")


def test_an_access_token_expired_within_the_leeway_is_still_accepted(
        app, browser, make_user, make_client, provider):
    """Minted by a node whose clock runs behind: `exp` already passed here, by less than the
    leeway. Expired by more, it is refused."""
    user, client = make_user(), make_client()
    tokens = tokens_for(app, browser, user, client)
    claims = provider.tokens.decode(tokens["access_token"])
    leeway = provider.settings.clock_leeway
    registered = provider.clients.get(client.client_id)
    answers = []
    for expired_ago in (leeway - 10, leeway + 10):
        minter = TokenService(provider.keys, provider.settings.issuer, provider.tokens.pairwise,
                              access_ttl=-expired_ago, id_ttl=600, leeway=leeway)
        token, _ = minter.access_token(client=registered, sub=claims["sub"], scope="openid",
                                       grant_id=claims["jti"].split(".")[0])
        remember_secret(token)
        answers.append(introspect(app, client, token).json["active"])
    assert answers == [True, False]


def _assertion(key, client_id, aud, *, iat_shift=0, exp_in=60, jti=None):
    now = int(time.time())
    claims = {"iss": client_id, "sub": client_id, "aud": aud, "iat": now + iat_shift,
              "exp": now + exp_in, "jti": jti or uuid.uuid4().hex}
    return jwt.encode({"alg": "RS256", "kid": key.kid}, claims, key, algorithms=["RS256"])


def test_private_key_jwt_allows_the_leeway_both_ways_and_the_replay_cache_covers_it(
        app, make_client, provider):
    key = RSAKey.generate_key(2048, parameters={"kid": "rp-skew", "alg": "RS256"}, private=True)
    client = make_client(auth_method="private_key_jwt",
                         jwks={"keys": [key.as_dict(private=False)]})
    aud = provider.settings.issuer + "/token"
    leeway = provider.settings.clock_leeway
    max_life = provider.settings.client_assertion_max_lifetime

    def post(assertion):
        return app.test_client().post("/token", data={
            "grant_type": "client_credentials", "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": assertion})

    # a client whose clock runs ahead: issued "in the future", expiring a little late
    ahead = _assertion(key, client.client_id, aud, iat_shift=leeway - 5,
                       exp_in=max_life + leeway - 5)
    assert post(ahead).status_code == 200
    # a client whose clock runs behind: already expired by less than the leeway
    behind = _assertion(key, client.client_id, aud, iat_shift=-60, exp_in=-(leeway - 5),
                        jti="late-once")
    assert post(behind).status_code == 200
    assert post(behind).json["error"] == "invalid_client"  # replayed inside the window
    too_far = _assertion(key, client.client_id, aud, exp_in=max_life + leeway + 30)
    assert post(too_far).json["error"] == "invalid_client"


def test_a_racing_update_never_brings_an_ended_session_back(app, browser, make_user,
                                                            make_client):
    user, client = make_user(), make_client()
    browser.login(user)
    sessions = app.extensions["idp.sessions"]
    sid = sid_of(browser)
    racing = sessions.get(sid)  # a request that read the session before the logout
    assert sessions.end(sid, actor=Actor.citizen(user.id)) is not None
    sessions.add_client(racing, client.client_id)  # …and writes after it
    sessions.reauthenticated(racing, ["pwd"])
    assert get_store(app).get("sso:" + sid) is None
    assert sessions.get(sid) is None


def test_two_racing_updates_both_land(app, browser, make_user, make_client):
    user = make_user()
    first, second = make_client(), make_client(redirect_uri="https://b.example.gov.cn/cb")
    browser.login(user)
    sessions = app.extensions["idp.sessions"]
    sid = sid_of(browser)
    one, two = sessions.get(sid), sessions.get(sid)  # two requests read the same version
    sessions.add_client(one, first.client_id)
    sessions.add_client(two, second.client_id)  # must not overwrite the first one's client
    assert sorted(sessions.get(sid).clients) == sorted([first.client_id, second.client_id])


def test_a_session_written_by_a_newer_version_still_decodes(app, browser, make_user):
    user = make_user()
    browser.login(user)
    _shift_session(app, browser)  # unchanged times; now add a field we do not know
    store, key = get_store(app), "sso:" + sid_of(browser)
    data = json.loads(store.get(key))
    data["device_binding"] = {"kind": "from-a-newer-release"}
    store.set(key, json.dumps(data), 600)
    assert browser.client.get("/account").status_code == 200
