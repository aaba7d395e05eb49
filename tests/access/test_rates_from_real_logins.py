"""Acceptance 1: with a catalogue imported from CSV and some systems live through real SSO
logins, every rate matches the figures computed by hand, declared and verified."""

from __future__ import annotations

from idp.extensions import db
from tests.access.conftest import OPERATOR, figures, import_csv


def test_rates_match_hand_computed_values_declared_and_verified(access, evidence, catalogue):
    for letter in "acdef":  # S-D is retired: its logins count for nothing
        catalogue.login(letter)
    access.refresh(evidence)
    report = access.report()

    # provincial departments, licensing (target 100) and public service (target 50)
    assert figures(report.get("dept:GDGA:licensing")) == (4, 3, 2, 75.0, 50.0)
    assert report.get("dept:GDGA:licensing").gap == 50.0
    assert figures(report.get("dept:GDGA:public_service")) == (4, 3, 2, 75.0, 50.0)
    assert report.get("dept:GDGA:public_service").met is True
    assert report.get("dept:GDGA:public_service").gap == 0.0
    assert figures(report.get("dept:GDSJ:licensing")) == (3, 2, 2, 66.67, 66.67)
    assert report.get("dept:GDSJ:licensing").gap == 33.33
    assert figures(report.get("dept:GDSJ:public_service")) == (1, 0, 0, 0.0, 0.0)
    assert figures(report.get("dept:GDRS:licensing")) == (0, 0, 0, None, None)
    assert report.get("dept:GDRS:licensing").gap is None
    assert figures(report.get("province:licensing")) == (7, 5, 4, 71.43, 57.14)
    assert figures(report.get("province:public_service")) == (5, 3, 2, 60.0, 40.0)
    assert report.get("province:public_service").gap == 10.0

    # cities, counties included (target 90); a provincial department's item is not the city's
    assert figures(report.get("city:441800")) == (8, 3, 3, 37.5, 37.5)
    assert report.get("city:441800").gap == 52.5
    assert figures(report.get("county:441802")) == (2, 1, 1, 50.0, 50.0)
    assert figures(report.get("county:441881")) == (3, 0, 0, 0.0, 0.0)
    assert figures(report.get("city:441500")) == (2, 2, 0, 100.0, 0.0)
    assert figures(report.get("county:441521")) == (2, 2, 0, 100.0, 0.0)
    assert figures(report.get("group:east_west_north")) == (10, 5, 3, 50.0, 30.0)
    assert figures(report.get("group:pearl_river_delta")) == (0, 0, 0, None, None)
    assert figures(report.get("city:440100")) == (0, 0, 0, None, None)

    # targets and drill-down
    assert [r.target for r in (report.get("dept:GDGA:licensing"),
                               report.get("dept:GDGA:public_service"),
                               report.get("city:441800"), report.get("county:441802"))] == \
        [100.0, 50.0, 90.0, 90.0]
    counties = report.children("city:441800")
    assert [r.scope for r in counties if r.items] == ["county:441802", "county:441881"]
    assert {r.name for r in counties} >= {"清城区", "清新区", "英德市", "连州市", "佛冈县"}
    assert all(r.items == 0 for r in counties if r.scope not in ("county:441802",
                                                                  "county:441881"))
    assert [r.scope for r in report.children("group:pearl_river_delta")] == [
        "city:440100", "city:440300", "city:440400", "city:440600", "city:440700",
        "city:441200", "city:441300", "city:441900", "city:442000"]
    assert len(report.children("group:east_west_north")) == 12
    assert [r.scope for r in report.children("province:licensing")] == [
        "dept:GDGA:licensing", "dept:GDRS:licensing", "dept:GDSJ:licensing"]


def test_without_logins_only_declared_figures_count(access, evidence, catalogue):
    access.refresh(evidence)
    report = access.report()
    assert figures(report.get("dept:GDGA:licensing")) == (4, 3, 0, 75.0, 0.0)
    assert figures(report.get("dept:GDGA:public_service")) == (4, 2, 0, 50.0, 0.0)
    assert figures(report.get("city:441800")) == (8, 3, 0, 37.5, 0.0)


def test_a_login_makes_a_registered_system_count_as_connected_and_verified(
        access, evidence, catalogue):
    access.refresh(evidence)
    assert figures(access.report().get("dept:GDSJ:licensing")) == (3, 0, 0, 0.0, 0.0)
    db.session.commit()  # the unit of work ends, as a request's would, before the next login
    catalogue.login("e")
    access.refresh(evidence)
    assert figures(access.report().get("dept:GDSJ:licensing")) == (3, 2, 2, 66.67, 66.67)
    [view] = access.systems.search(code="S-E").systems
    assert (view.status, view.live, view.effective_status) == ("registered", True, "live")


def test_figures_follow_every_change_even_when_computed_just_before(access, evidence,
                                                                    catalogue):
    first = access.report()
    assert access.report() is first  # nothing changed: the figures are reused
    added = import_csv(access, "items",
                       "code,name,type,department_code,level,division_code\n"
                       "GA-L5,枪支持有许可,licensing,GDGA,province,440000\n")
    assert added.created == 1
    assert figures(access.report().get("dept:GDGA:licensing")) == (5, 3, 0, 60.0, 0.0)
    access.systems.update("S-B", item_codes=["GA-L3", "GA-S2", "GA-L5"], actor=OPERATOR)
    assert access.report().get("dept:GDGA:licensing").declared == 4
    db.session.commit()
    catalogue.login("a")
    access.refresh(evidence)  # a system turning live changes the figures too
    assert access.report().get("dept:GDGA:licensing").verified == 2


def test_a_client_with_logins_attached_to_a_system_makes_it_live(access, evidence, catalogue,
                                                                 make_client):
    catalogue.login("a")
    access.refresh(evidence)
    client = catalogue.clients["a"].client_id
    access.systems.detach_client(client, actor=OPERATOR)
    assert access.systems.view("S-A").live is False
    assert access.report().get("dept:GDGA:licensing").verified == 0
    access.systems.attach_client("S-B", client, actor=OPERATOR)
    assert access.systems.view("S-B").live is True
    assert access.report().get("dept:GDGA:licensing").verified == 1  # GA-L3 through S-B


def test_figures_computed_in_a_transaction_that_rolled_back_are_never_reused(access,
                                                                             catalogue):
    db.session.commit()
    access.systems.set_status("S-B", "retired", actor=OPERATOR)
    assert access.report().get("dept:GDGA:licensing").declared == 2
    db.session.rollback()  # the change never happened
    access.systems.set_status("S-H", "testing", actor=OPERATOR)  # another change
    report = access.report()
    assert report.get("dept:GDGA:licensing").declared == 3
    assert report.get("city:441500").declared == 0
