"""The targets and the live window are configuration: IDP_ACCESS_TARGETS and
IDP_ACCESS_LIVE_DAYS parse, refuse bad values naming the variable, and reach every rate."""

from __future__ import annotations

import pytest

from idp.access.services import AccessService
from idp.access.targets import DEFAULT_SPEC, Targets, check_live_days, parse_targets


def test_the_default_targets_are_the_2017_provincial_plans():
    assert parse_targets(DEFAULT_SPEC) == Targets(100, 50, 90) == Targets()
    assert Targets().spec() == DEFAULT_SPEC


def test_a_target_left_out_keeps_its_default_and_commas_may_separate():
    assert parse_targets("city=85, province.public_service=60") == Targets(100, 60, 85)
    assert parse_targets("") == Targets()


@pytest.mark.parametrize(("spec", "message"), [
    ("county=90", "'county=90' is not one of"),
    ("city", "'city' is not one of"),
    ("city=0", "city must be a percentage above 0 and at most 100, not '0'"),
    ("city=101", "not '101'"),
    ("city=nan", "not 'nan'"),
    ("city=ninety", "not 'ninety'"),
    ("city=90 city=80", "city is given twice"),
])
def test_bad_targets_are_refused_naming_the_variable(spec, message):
    with pytest.raises(ValueError) as refused:
        parse_targets(spec)
    assert str(refused.value).startswith("IDP_ACCESS_TARGETS: ")
    assert message in str(refused.value)


@pytest.mark.parametrize("days", [0, -1, 367])
def test_the_live_window_must_be_one_day_to_a_year(app, days):
    with pytest.raises(ValueError, match="IDP_ACCESS_LIVE_DAYS must be between 1 and 366"):
        check_live_days(days)
    with pytest.raises(ValueError):
        AccessService(app.extensions["idp.clock"], live_days=days)


def test_configured_targets_reach_every_rate(app, access, catalogue):
    shanwei_2016 = AccessService(app.extensions["idp.clock"],
                                 targets=parse_targets("city=80 province.public_service=30"))
    report = shanwei_2016.report()
    assert report.get("city:441500").target == report.get("county:441521").target == 80.0
    assert report.get("group:east_west_north").target == 80.0
    assert report.get("dept:GDGA:public_service").target == 30.0
    assert report.get("dept:GDGA:licensing").target == 100.0
    assert report.get("city:441500").gap == 80.0  # verified 0 of 2
