"""No input reaches a 5xx in the console either: every console route, signed in as an
operator, fed hostile path values, odd form values and odd queries."""

from __future__ import annotations

import io

import pytest

from tests.admin.conftest import text_of

HOSTILE = ["a%22b%27c%5Cd", "%E4%B8%AD%E6%96%87%F0%9F%98%80", "%ff%fe%c0%af", "a%2Fb", "%2e%2e",
           "x" * 2000, "1" * 40, "city:441800", "dept:GDGA:licensing"]
ODD = "a\"b'c\\d<e>&f;中文\u202e😀\tg\r\nh" + "k" * 300
ROUTES = ["/admin/systems/{}", "/admin/systems/{}/status", "/admin/systems/{}/clients",
          "/admin/clients/{}", "/admin/clients/{}/rotate", "/admin/clients/{}/disable",
          "/admin/clients/{}/enable", "/admin/access/city/{}", "/admin/access/department/{}"]
FORMS = {
    "/admin/systems/new": ["code", "name", "department", "contact", "items", "client_name",
                           "redirect_uris", "auth_method", "jwks_uri", "grant_types", "scope",
                           "post_logout_redirect_uris", "backchannel_logout_uri",
                           "subject_type", "sector_identifier", "id_token_alg", "first_party",
                           "require_mfa"],
    "/admin/imports": ["kind", "file", "dry_run"],
    "/admin/login": ["username", "password", "code"],
}
QUERIES = ["/admin/systems?page=99999999999&status=live&department=" + ODD,
           "/admin/systems?page=-1&status=nope&q=%25%5F",
           "/admin/access?month=" + ODD, "/admin/access?month=0000-00",
           "/admin/access/city/441800?month=9999-12", "/admin/access/department/X?month=x"]


@pytest.mark.parametrize("route", ROUTES)
def test_hostile_path_values_get_a_clear_answer(make_operator, route):
    operator = make_operator()
    token = operator.csrf()
    for value in HOSTILE:
        for method in ("GET", "POST"):
            answer = operator.client.open(route.format(value), method=method,
                                          data={"csrf_token": token, "status": ODD,
                                                "client_id": ODD})
            assert answer.status_code < 500, (route, value, method, text_of(answer)[:300])


@pytest.mark.parametrize("path", sorted(FORMS))
def test_odd_form_values_get_a_clear_answer(make_operator, path):
    operator = make_operator()
    for value in (ODD, "", "0" * 70_000):
        data = {name: value for name in FORMS[path]}
        answer = operator.post(path, data)
        assert answer.status_code < 500, (path, text_of(answer)[:300])
    upload = {"kind": "systems", "file": (io.BytesIO(b"\xff\xfe\x00" + ODD.encode()), "x.csv")}
    answer = operator.post("/admin/imports", upload, content_type="multipart/form-data")
    assert answer.status_code == 400, text_of(answer)[:300]


@pytest.mark.parametrize("query", QUERIES)
def test_odd_queries_get_a_clear_answer(make_operator, query):
    operator = make_operator()
    answer = operator.get(query)
    assert answer.status_code < 500, (query, text_of(answer)[:300])
