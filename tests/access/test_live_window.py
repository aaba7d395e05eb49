"""Acceptance 2 and the live window: a system is live while one of its clients has a completed
SSO login within the last IDP_ACCESS_LIVE_DAYS Beijing days; when its logins stop it drops out
of "verified" and shows on the follow-up list (督办清单)."""

from __future__ import annotations

from idp.access.services import AccessService
from tests.access.conftest import DAY, OPERATOR, figures, login_days


def test_a_system_whose_logins_stop_drops_out_of_verified_and_onto_the_follow_up_list(
        app, access, evidence, catalogue):
    catalogue.login("f")
    access.refresh(evidence)
    [login_day] = login_days(catalogue.clients["f"].client_id)
    assert figures(access.report().get("city:441800")) == (8, 3, 3, 37.5, 37.5)
    assert access.follow_up("city:441800").dropped == []

    app.extensions["idp.clock"].advance(30 * DAY)  # the login is now outside the window
    access.refresh(evidence)
    report = access.report()
    assert figures(report.get("city:441800")) == (8, 3, 0, 37.5, 0.0)  # declared stays
    assert figures(report.get("county:441802")) == (2, 1, 0, 50.0, 0.0)

    found = access.follow_up("city:441800", report=report)
    [dropped] = found.dropped
    assert (dropped.code, dropped.status, dropped.live, dropped.last_login_day) == \
        ("S-F", "connected", False, login_day)
    assert found.unconnected == 8
    pending = {item.code: [s.code for s in item.systems] for item in found.items}
    assert pending == {"QY-1": ["S-F"], "QY-2": ["S-F"], "QY-3": [], "QY-4": ["S-G"],
                       "QC-1": ["S-F"], "QC-2": [], "YD-1": ["S-G"], "YD-2": []}
    assert found.rate == report.get("city:441800")


def test_the_live_window_holds_the_login_day_and_the_days_after_it_up_to_live_days(
        app, access, evidence, catalogue):
    clock = app.extensions["idp.clock"]
    catalogue.login("a")
    clock.advance(29 * DAY)  # the login day is the first of the 30 days ending today
    access.refresh(evidence)
    assert access.systems.view("S-A").live is True
    assert access.report().get("dept:GDGA:licensing").verified == 2
    clock.advance(DAY)
    access.refresh(evidence)
    assert access.systems.view("S-A").live is False
    assert access.report().get("dept:GDGA:licensing").verified == 0


def test_the_live_window_is_configuration(app, access, evidence, catalogue):
    week = AccessService(app.extensions["idp.clock"], live_days=7)
    catalogue.login("a")
    app.extensions["idp.clock"].advance(7 * DAY)
    access.refresh(evidence)
    assert access.systems.view("S-A").live is True
    assert week.systems.view("S-A").live is False
    assert week.report().get("dept:GDGA:licensing").verified == 0


def test_a_retired_system_is_never_live_whatever_its_logins(access, evidence, catalogue):
    catalogue.login("d")
    access.refresh(evidence)
    view = access.systems.view("S-D")
    assert (view.status, view.live, view.logins_in_window) == ("retired", False, 1)
    assert "GA-L4" in {i.code for i in access.follow_up("dept:GDGA:licensing").items}


def test_declaring_a_live_system_retired_removes_it_from_both_figures(
        access, evidence, catalogue):
    catalogue.login("a")
    access.refresh(evidence)
    assert figures(access.report().get("dept:GDGA:licensing")) == (4, 3, 2, 75.0, 50.0)
    access.systems.set_status("S-A", "retired", actor=OPERATOR)
    assert figures(access.report().get("dept:GDGA:licensing")) == (4, 1, 0, 25.0, 0.0)



def test_a_login_day_the_evidence_no_longer_holds_stops_proving_the_system_live(
        app, access, catalogue):
    from datetime import UTC, datetime

    from idp.access.ports import RecordedLogins

    fake = RecordedLogins()
    now = datetime.fromtimestamp(app.extensions["idp.clock"].now(), UTC)
    fake.add(catalogue.clients["a"].client_id, now)
    access.rollup(fake, 30)
    access.rollup(fake, 2)
    assert access.systems.view("S-A").live is True
    fake.logins.clear()  # e.g. the token records were wrong and were removed
    assert access.rollup(fake, 2).removed == 1
    assert (access.systems.view("S-A").live, access.systems.view("S-A").last_login_day) == \
        (False, None)
