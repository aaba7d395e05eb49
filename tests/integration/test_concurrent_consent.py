"""A double click on "Allow" sends consent requests at once: each is answered with a
code (an upsert records the consent once), never a server error."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import parse_qs, urlencode, urlparse

import requests
from sqlalchemy import func, select

from idp.extensions import db
from idp.oauth.models import Consent
from tests.conftest import csrf_from, pkce_pair, remember_secret

CLICKS = 6  # a double click, and a few more: each extra request widens the race window


def _signed_in(base: str, username: str, password: str) -> requests.Session:
    http = requests.Session()
    page = http.get(base + "/login", timeout=10)
    done = http.post(base + "/login", data={"csrf_token": csrf_from(page.text),
                                            "identifier": username, "password": password},
                     allow_redirects=False, timeout=10)
    assert done.status_code == 303
    return http


def test_two_simultaneous_allows_both_get_a_code_and_one_consent_is_kept(
        app, live_provider, make_user, make_client):
    user = make_user()
    client = make_client(first_party=False)
    http = _signed_in(live_provider.url, user.username, user.password)
    _verifier, challenge = pkce_pair()
    url = live_provider.url + "/authorize?" + urlencode({
        "response_type": "code", "client_id": client.client_id,
        "redirect_uri": client.redirect_uri, "scope": "openid phone", "state": "s",
        "nonce": "n", "code_challenge": challenge, "code_challenge_method": "S256"})
    page = http.get(url, timeout=10)
    assert page.status_code == 200
    form = {"csrf_token": csrf_from(page.text), "decision": "allow"}
    start = threading.Barrier(CLICKS)

    def click(_: int) -> requests.Response:
        twin = requests.Session()
        twin.cookies.update(http.cookies)
        start.wait(timeout=10)
        return twin.post(url, data=form, allow_redirects=False, timeout=20)

    with ThreadPoolExecutor(max_workers=CLICKS) as pool:
        answers = list(pool.map(click, range(CLICKS)))
    assert [a.status_code for a in answers] == [302] * CLICKS
    for answer in answers:
        query = parse_qs(urlparse(answer.headers["Location"]).query)
        assert "code" in query and "error" not in query
        remember_secret(query["code"][0])
    db.session.expire_all()
    count = db.session.execute(select(func.count()).select_from(Consent)
                               .where(Consent.user_id == user.id)).scalar_one()
    assert count == 1
