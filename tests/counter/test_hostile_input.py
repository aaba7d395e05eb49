"""No input reaches a 5xx on the workbench either: every counter route, signed in as an
operator (who may use them all), fed hostile path values and odd form values."""

from __future__ import annotations

import pytest

from tests.counter.conftest import text_of

HOSTILE = ["a%22b%27c%5Cd", "%E4%B8%AD%E6%96%87%F0%9F%98%80", "%ff%fe%c0%af", "a%2Fb", "%2e%2e",
           "x" * 2000, "1" * 40]
ODD = "a\"b'c\\d<e>&f;中文\u202e😀\tg\r\nh" + "k" * 300
ROUTES = ["/counter/person/{}", "/counter/person/{}/open", "/counter/person/{}/reveal",
          "/counter/person/{}/verify", "/counter/person/{}/recover", "/counter/slip/{}",
          "/counter/staff/{}/disable", "/counter/staff/{}/reissue", "/counter/enrol/{}"]
FORMS = {
    "/counter/": ["kind", "query", "purpose", "detail"],
    "/counter/register": ["document_type", "number", "name", "valid_until", "long_term",
                          "card_json", "photo_compared", "phone"],
    "/counter/staff": ["username", "display_name", "role", "hall", "id_number"],
    "/counter/cases/1": ["decision", "note"],
    "/counter/login": ["username", "password", "code"],
    "/activate": ["identifier", "code", "password", "confirm"],
}


@pytest.fixture
def operator(make_staff):
    return make_staff("operator")


@pytest.mark.parametrize("route", ROUTES)
def test_hostile_path_values_get_a_clear_answer(operator, route):
    for value in HOSTILE:
        for method in ("GET", "POST"):
            answer = operator.client.open(route.format(value), method=method,
                                          data={"csrf_token": operator.csrf("/counter/")})
            assert answer.status_code < 500, (route, value, method, text_of(answer)[:300])


@pytest.mark.parametrize("path", sorted(FORMS))
def test_odd_form_values_get_a_clear_answer(operator, make_user, path):
    for value in (ODD, "", "0" * 70_000, '{"type": ["x"], "number": {"a": 1}}'):
        data = {name: value for name in FORMS[path]}
        answer = operator.post(path, data)
        assert answer.status_code < 500, (path, text_of(answer)[:300])
    citizen = make_user()
    operator.open_record(citizen.id)
    for form, fields in (("verify", ["v-document_type", "v-number", "v-name", "v-valid_until",
                                     "v-card_json"]),
                         ("recover", ["r-new_phone", "r-reset_password"]),
                         ("reveal", ["x-reason"])):
        answer = operator.post(f"/counter/person/{citizen.id}/{form}",
                               {name: ODD for name in fields})
        assert answer.status_code < 500, (form, text_of(answer)[:300])


def test_odd_report_queries_get_a_clear_answer(make_staff):
    supervisor = make_staff("supervisor")
    for query in ("day=9999-99-99", "day=长期", "day=" + "9" * 500, "hall=" + ODD,
                  "day=0001-01-01"):
        answer = supervisor.client.get("/counter/report?" + query)
        assert answer.status_code < 500, (query, text_of(answer)[:300])
