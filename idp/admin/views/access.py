"""Access rates (接入率): provincial departments (licensing and public-service items) and
cities in their two groups, each rate declared and verified against its target; a bar chart
per city with the target line; drill-downs with the follow-up list (督办清单); trend charts
from the monthly snapshots; a page that prints as the monthly bulletin (月度通报)."""

from __future__ import annotations

from typing import Any

from flask import request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from idp.access.errors import AccessError
from idp.access.models import LICENSING, PUBLIC_SERVICE
from idp.access.rates import Rate, Report
from idp.access.regions import CITIES, GROUP_NAMES
from idp.access.services import AccessService
from idp.access.snapshots import check_month, month_of
from idp.admin.charts import Bar, Series, bar_chart, line_chart, percent
from idp.admin.views import bp
from idp.admin.views.common import access, not_found, page, refreshed

FOLLOW_UP_LIMIT = 500  # items listed on a drill-down page (the API gives them all)
TREND_MONTHS = 12
RATED = (LICENSING, PUBLIC_SERVICE)


def type_name(item_type: str | None) -> str:
    return {LICENSING: _("Administrative licensing"),
            PUBLIC_SERVICE: _("Public service")}.get(item_type or "", item_type or "")


def _report() -> tuple[AccessService, Report, str | None, str | None]:
    """The figures the page shows: a stored month's (?month=YYYY-MM), else current ones
    (after the cheap rollup). The third value is the month asked for, the fourth a problem."""
    month = request.args.get("month") or None
    problem = None
    if month is not None:
        try:
            stored = access().stored_report(check_month(month))
        except AccessError:
            stored, problem = None, _("A month is written YYYY-MM, e.g. 2026-11.")
        if stored is not None:
            return access(), stored, month, None
        problem = problem or _("No figures were stored for %(month)s; the current figures "
                               "are shown.", month=month)
    service = refreshed()
    return service, service.report(), None, problem


@bp.get("/access")
def access_rates() -> Response:
    service, report, month, problem = _report()
    departments = [(d, [report.get(f"dept:{d.scope.split(':')[1]}:{t}") for t in RATED])
                   for d in report.of_kind("department") if d.item_type == LICENSING]
    groups = [(group, report.get(f"group:{key}"), report.children(f"group:{key}"))
              for key, group in GROUP_NAMES.items()]
    cities = [rate for _group, _rate, children in groups for rate in children]
    return page("admin_access.html", report=report, month=month, problem=problem,
                bulletin_month=month or month_of(report.as_of),
                provincial=[report.get(f"province:{t}") for t in RATED], departments=departments,
                groups=groups, city_chart=bar_chart(_city_bars(cities), service.targets.city),
                trend_cities=_trend_chart(service, [
                    (f"group:{key}", name) for key, name in GROUP_NAMES.items()],
                    [(service.targets.city, _("City target %(rate)s",
                                              rate=percent(service.targets.city, 0)))]),
                trend_province=_trend_chart(service, [
                    (f"province:{t}", type_name(t)) for t in RATED], _province_targets(service)),
                live_days=service.live_days, type_name=type_name)


def _city_bars(cities: list[Rate]) -> list[Bar]:
    group_of = {f"city:{c.code}": GROUP_NAMES[c.group] for c in CITIES}
    return [Bar(r.name, r.verified_rate, r.declared_rate, group_of.get(r.scope),
                url_for("admin.access_city", code=r.scope.split(":")[1])) for r in cities]


def _province_targets(service: AccessService) -> list[tuple[float, str]]:
    t = service.targets
    return [(t.province_licensing, _("Licensing target %(rate)s",
                                     rate=percent(t.province_licensing, 0))),
            (t.province_public_service, _("Public-service target %(rate)s",
                                          rate=percent(t.province_public_service, 0)))]


def _trend_chart(service: AccessService, scopes: list[tuple[str, str]],
                 targets: list[tuple[float, str]]) -> Any:
    """Verified (solid) and declared (dotted) lines per scope from the stored months; None
    when no month is stored yet."""
    series: list[Series] = []
    for colour, (scope, name) in enumerate(scopes):
        points = service.trend(scope, TREND_MONTHS)
        if not points:
            continue
        series.append(Series(_("%(name)s verified", name=name),
                             [(p.month, p.verified_rate) for p in points], "verified", colour))
        series.append(Series(_("%(name)s declared", name=name),
                             [(p.month, p.declared_rate) for p in points], "declared", colour))
    return line_chart(series, targets) if series else None


@bp.get("/access/city/<code>")
def access_city(code: str) -> Response:
    city = next((c for c in CITIES if c.code == code), None)
    if city is None:
        return not_found(_("There is no prefecture-level city with this code."))
    service, report, month, problem = _report()
    scope = f"city:{code}"
    rate = report.get(scope)
    counties = report.children(scope)
    follow = service.follow_up(scope, limit=FOLLOW_UP_LIMIT, report=report)
    return page("admin_access_city.html", city=city, group=GROUP_NAMES[city.group], rate=rate,
                counties=counties, follow=follow, report=report, month=month, problem=problem,
                chart=bar_chart([Bar(c.name, c.verified_rate, c.declared_rate)
                                 for c in counties], service.targets.city),
                trend=_trend_chart(service, [(scope, city.name)], [
                    (service.targets.city, _("Target %(rate)s",
                                             rate=percent(service.targets.city, 0)))]),
                live_days=service.live_days, limit=FOLLOW_UP_LIMIT, type_name=type_name)


@bp.get("/access/department/<code>")
def access_department(code: str) -> Response:
    service, report, month, problem = _report()
    rates = [report.get(f"dept:{code}:{t}") for t in RATED]
    if any(r is None for r in rates) or len(code) > 40:
        return not_found(_("There is no provincial department with this code."))
    follows = [service.follow_up(f"dept:{code}:{t}", limit=FOLLOW_UP_LIMIT, report=report)
               for t in RATED]
    name = rates[0].name if rates[0] else code
    return page("admin_access_department.html", code=code, name=name,
                sections=list(zip(rates, follows, strict=True)), report=report, month=month,
                problem=problem,
                trend=_trend_chart(service, [(f"dept:{code}:{t}", type_name(t)) for t in RATED],
                                   _province_targets(service)),
                live_days=service.live_days, limit=FOLLOW_UP_LIMIT, type_name=type_name)
