"""What every console page keeps to: never cached, never a client secret except on the one
result page that hands it over; and a client's daily logins after a real SSO login."""

from __future__ import annotations

import re

from tests.admin.catalogue import DEPARTMENTS, ITEMS, upload
from tests.admin.conftest import client_id_of, secret_of, text_of
from tests.integration.helpers import tokens_for

CONSOLE_PAGES = ("/admin/systems", "/admin/systems/new", "/admin/systems/SYS-GA9",
                 "/admin/clients/{client_id}", "/admin/access", "/admin/access/city/441800",
                 "/admin/access/department/GDGA", "/admin/imports", "/admin/login",
                 "/admin/systems?status=registered&department=GDGA")


def test_no_console_page_is_cached_or_shows_a_secret_but_the_result_page(app, make_operator):
    operator = make_operator()
    upload(operator, "departments", DEPARTMENTS)
    upload(operator, "items", ITEMS)
    result = operator.post("/admin/systems/new", {
        "code": "SYS-GA9", "name": "公安厅网上办事系统", "department": "GDGA",
        "redirect_uris": "https://gaj.example.gov.cn/cb", "auth_method": "client_secret_post",
        "grant_types": ["authorization_code"], "scope": "openid", "subject_type": "public",
        "id_token_alg": "RS256", "items": "P-L1\nP-L2"})
    assert result.status_code == 200 and result.headers["Cache-Control"] == "no-store"
    secret, client_id = secret_of(result), client_id_of(result)
    rotated = operator.post(f"/admin/clients/{client_id}/rotate")
    assert rotated.headers["Cache-Control"] == "no-store"
    new_secret = secret_of(rotated)
    for path in CONSOLE_PAGES:
        answer = operator.get(path.format(client_id=client_id))
        assert answer.status_code == 200, path
        assert answer.headers["Cache-Control"] == "no-store", path
        assert secret not in text_of(answer) and new_secret not in text_of(answer), path
        assert 'id="client-secret"' not in text_of(answer), path


def test_a_clients_daily_logins_show_a_real_login_today(app, browser, make_user, make_client,
                                                        make_operator):
    operator = make_operator()
    client = make_client()
    tokens_for(app, browser, make_user(), client)
    tokens_for(app, browser, make_user(), client)
    page = text_of(operator.get(f"/admin/clients/{client.client_id}"))
    today = app.extensions["idp.access"].today().isoformat()
    row = re.search(rf'<tr data-day="{today}"><td>{today}</td><td class="num">(\d+)</td>', page)
    assert row and row.group(1) == "2"
    columns = re.findall(r'<rect class="day" [^>]*data-day="([\d-]+)" data-count="(\d+)"', page)
    assert len(columns) == 30 and columns[-1] == (today, "2")
    assert sum(int(n) for _day, n in columns) == 2
    assert '<title id="logins-chart-title">' in page
