"""/admin/access: the rates of a small catalogue imported from CSV, with systems made live by
real SSO logins, match the figures computed by hand (declared and verified, target, gap) for
provincial departments of both types, cities and counties; the charts; the drill-downs with
the follow-up list; the trend from monthly snapshots; the print bulletin."""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

from idp.audit.actors import Actor
from idp.extensions import db
from tests.admin.catalogue import EXPECTED, import_catalogue
from tests.admin.conftest import text_of
from tests.integration.helpers import tokens_for

COLUMNS = ("items", "declared", "declared_rate", "verified", "verified_rate", "target", "gap")


def row_of(page: str, scope: str) -> tuple[str, ...]:
    match = re.search(rf'<tr class="rate[^"]*" data-scope="{re.escape(scope)}">(.*?)</tr>',
                      page, re.S)
    assert match, f"no row for {scope}"
    cells = {}
    for column in COLUMNS:
        cell = re.search(rf'<td class="num" data-column="{column}">(.*?)</td>', match.group(1),
                         re.S)
        assert cell, (scope, column)
        cells[column] = html.unescape(re.sub(r"<[^>]+>", "", cell.group(1))).strip()
    return tuple(cells[c] for c in COLUMNS)


def live_catalogue(app: Any, browser: Any, make_user: Any, make_client: Any,
                   operator: Any) -> tuple[Any, Any]:
    """The catalogue imported through the console, SYS-GA1 and SYS-QY made live by logins."""
    ga = make_client(redirect_uri="https://gaj.example.gov.cn/cb")
    qy = make_client(redirect_uri="https://qy.example.gov.cn/cb")
    import_catalogue(operator, ga.client_id, qy.client_id)
    user = make_user()
    tokens_for(app, browser, user, ga)
    tokens_for(app, browser, user, qy)
    tokens_for(app, browser, user, qy)
    return ga, qy


def test_the_rates_match_the_figures_computed_by_hand(app, browser, make_user, make_client,
                                                      make_operator):
    operator = make_operator()
    live_catalogue(app, browser, make_user, make_client, operator)
    answer = operator.get("/admin/access")
    assert answer.status_code == 200
    page = text_of(answer)
    for scope in ("dept:GDGA:licensing", "dept:GDGA:public_service", "dept:GDRS:licensing",
                  "dept:GDRS:public_service", "province:licensing", "province:public_service",
                  "group:east_west_north", "group:pearl_river_delta", "city:441800",
                  "city:440300"):
        assert row_of(page, scope) == EXPECTED[scope], scope


def test_the_city_chart_has_a_bar_pair_per_city_the_target_line_and_a_text_alternative(
        app, browser, make_user, make_client, make_operator):
    operator = make_operator()
    live_catalogue(app, browser, make_user, make_client, operator)
    page = text_of(operator.get("/admin/access"))
    svg = re.search(r'<svg id="city-chart".*?</svg>', page, re.S).group(0)
    assert 'role="img"' in svg and 'aria-labelledby="city-chart-title city-chart-desc"' in svg
    assert '<title id="city-chart-title">各市接入率与目标</title>' in svg
    assert len(re.findall(r'<g class="bar-row', svg)) == 21
    assert "珠三角九市" in svg and "粤东西北" in svg
    qingyuan = re.search(r'<g class="bar-row[^"]*" data-label="清远市">(.*?)</g>', svg, re.S)
    assert qingyuan and "50.0%" in qingyuan.group(1)
    widths = dict(re.findall(r'<rect class="(declared|verified)" [^>]*width="([0-9.]+)"',
                             qingyuan.group(1)))
    plot = 760 - 150 - 70
    assert float(widths["declared"]) == round(plot * 0.75, 1)
    assert float(widths["verified"]) == round(plot * 0.50, 1)
    target = re.search(r'<line class="target" x1="([0-9.]+)"[^>]*stroke-dasharray', svg)
    assert target and float(target.group(1)) == round(150 + plot * 0.9, 1)
    assert "<script" not in page and "cdn" not in page.lower()


def test_the_city_drill_down_shows_counties_and_the_follow_up_list(
        app, browser, make_user, make_client, make_operator):
    operator = make_operator()
    live_catalogue(app, browser, make_user, make_client, operator)
    answer = operator.get("/admin/access/city/441800")
    assert answer.status_code == 200
    page = text_of(answer)
    assert row_of(page, "city:441800") == EXPECTED["city:441800"]
    assert row_of(page, "county:441802") == EXPECTED["county:441802"]
    follow = re.search(r'<table class="data follow-up" id="follow-up">(.*?)</table>', page,
                       re.S).group(1)
    assert re.findall(r'data-item="([^"]+)"', follow) == ["QC-2", "QY-2"]
    qc2 = re.search(r'data-item="QC-2">(.*?)</tr>', follow, re.S).group(1)
    assert "清城区业务系统" in qc2 and "已接入" in qc2
    qy2 = re.search(r'data-item="QY-2">(.*?)</tr>', follow, re.S).group(1)
    assert "没有业务系统办理" in qy2
    dropped = re.search(r'id="follow-up-dropped">(.*?)</table>', page, re.S).group(1)
    assert re.findall(r'data-system="([^"]+)"', dropped) == ["SYS-QC"]
    assert "2 项事项尚未接入" in page


def test_the_department_drill_down_lists_each_types_unconnected_items(
        app, browser, make_user, make_client, make_operator):
    operator = make_operator()
    live_catalogue(app, browser, make_user, make_client, operator)
    page = text_of(operator.get("/admin/access/department/GDGA"))
    assert row_of(page, "dept:GDGA:licensing") == EXPECTED["dept:GDGA:licensing"]
    licensing = re.search(r'id="follow-up-licensing">(.*?)</table>', page, re.S).group(1)
    assert re.findall(r'data-item="([^"]+)"', licensing) == ["P-L3", "P-L4"]
    public = re.search(r'id="follow-up-public_service">(.*?)</table>', page, re.S).group(1)
    assert re.findall(r'data-item="([^"]+)"', public) == ["P-S2"]


def test_a_system_whose_logins_stop_drops_out_of_verified_and_onto_the_follow_up_list(
        app, browser, make_user, make_client, make_operator):
    operator = make_operator()
    live_catalogue(app, browser, make_user, make_client, operator)
    app.extensions["idp.clock"].advance(31 * 86400)
    assert operator.login().status_code == 303  # the console session idled out meanwhile
    page = text_of(operator.get("/admin/access/city/441800"))
    # SYS-QY was only ever in testing: its items count neither way now; SYS-QC is declared.
    assert row_of(page, "city:441800") == ("4", "1", "25.00%", "0", "0.00%", "90%", "90.00")
    follow = re.search(r'id="follow-up">(.*?)</table>', page, re.S).group(1)
    assert re.findall(r'data-item="([^"]+)"', follow) == ["QC-1", "QC-2", "QY-1", "QY-2"]


def test_the_trend_chart_is_drawn_from_the_monthly_snapshots(app, browser, make_user,
                                                               make_client, make_operator):
    operator = make_operator()
    live_catalogue(app, browser, make_user, make_client, operator)
    assert 'id="no-trend"' in text_of(operator.get("/admin/access"))
    app.extensions["idp.access"].snapshot(actor=Actor.operator("tests"))
    db.session.commit()
    page = text_of(operator.get("/admin/access"))
    svg = re.search(r'<svg id="trend-cities".*?</svg>', page, re.S).group(0)
    assert '<g class="line verified" data-name="粤东西北 已验证">' in svg
    assert re.search(r"<title>粤东西北 已验证 \d{4}-\d{2} 50\.0%</title>", svg)
    assert 'class="target"' in svg


def test_the_page_prints_as_the_monthly_bulletin(app, make_operator):
    operator = make_operator()
    page = text_of(operator.get("/admin/access"))
    month = app.extensions["idp.access"].today().strftime("%Y-%m")
    assert f'id="bulletin-title">统一身份认证平台业务系统接入情况月度通报（{month}）</h1>' in page
    assert page.count('<section class="bulletin"') == 3
    assert 'class="consolebar no-print"' in page
    css = (Path(app.static_folder) / "admin.css").read_text()
    printed = css.split("@media print", 1)[1]
    assert "break-before: page" in printed and ".consolebar" in printed


def test_a_stored_month_can_be_shown_and_an_unknown_one_says_so(app, make_operator):
    operator = make_operator()
    month = app.extensions["idp.access"].today().strftime("%Y-%m")
    page = text_of(operator.get("/admin/access?month=1999-01"))
    assert "1999-01 没有存储的数据，显示的是当前数据。" in page
    app.extensions["idp.access"].snapshot(actor=Actor.operator("tests"))
    db.session.commit()
    stored = text_of(operator.get(f"/admin/access?month={month}"))
    assert f"{month} 存储的数据" in stored
    assert "月份格式为" in text_of(operator.get("/admin/access?month=2026-13"))
