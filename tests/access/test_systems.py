"""Business systems: registration, the declared status with the day of each change, the
clients that belong to a system (one system per client), the list operators read, each
client's daily logins; every change audited."""

from __future__ import annotations

from datetime import timedelta

import pytest

from idp.access.errors import AccessError
from idp.extensions import db
from tests.access.conftest import DAY, OPERATOR, login_days
from tests.integration.citizens import audit_events


def test_creating_a_system_records_its_items_clients_and_registration_day(
        access, catalogue, make_client):
    client = make_client(name="清城区不动产系统")
    system = access.systems.create(code="S-QC", name="清城区不动产登记系统",
                                   department_code="QCZW", contact=" 李工 ",
                                   item_codes=["QC-2", "QC-1", "QC-2"],
                                   client_ids=[client.client_id], actor=OPERATOR)
    today = access.today().isoformat()
    assert (system.status, system.status_dates, system.contact) == \
        ("registered", {"registered": today}, "李工")
    assert access.systems.item_codes("S-QC") == ["QC-1", "QC-2"]
    assert access.systems.system_of_client(client.client_id) == "S-QC"
    [event] = audit_events("access:system:created")
    assert event.actor == "operator:tests"
    assert event.data == {"system": "S-QC", "department": "QCZW", "status": "registered",
                          "items": 2, "clients": [client.client_id]}


@pytest.mark.parametrize(("values", "code"), [
    ({"code": "S-A"}, "duplicate_code"),
    ({"code": "bad code"}, "bad_code"),
    ({"department_code": "NOPE"}, "unknown_department"),
    ({"item_codes": ["GA-L1", "NO-SUCH"]}, "unknown_item"),
    ({"client_ids": ["no-such-client"]}, "unknown_client"),
    ({"name": " "}, "bad_name"),
])
def test_creating_a_system_refuses_bad_input_and_writes_nothing(access, catalogue, values,
                                                                  code):
    db.session.commit()
    before = len(audit_events())
    arguments = {"code": "S-NEW", "name": "新系统", "department_code": "GDGA", **values}
    with pytest.raises(AccessError) as refused:
        access.systems.create(actor=OPERATOR, **arguments)
    assert refused.value.code == code
    db.session.rollback()
    assert len(audit_events()) == before


def test_each_declared_status_change_is_dated_and_audited(app, access, catalogue):
    access.systems.set_status("S-G", "testing", actor=OPERATOR)
    testing_day = access.today().isoformat()
    app.extensions["idp.clock"].advance(3 * DAY)
    system = access.systems.set_status("S-G", "connected", actor=OPERATOR)
    assert system.status_dates == {"registered": testing_day, "testing": testing_day,
                                   "connected": access.today().isoformat()}
    access.systems.set_status("S-G", "connected", actor=OPERATOR)  # no change, no event
    events = audit_events("access:system:status_changed")
    assert [e.data for e in events] == [
        {"system": "S-G", "status": "testing", "previous": "registered"},
        {"system": "S-G", "status": "connected", "previous": "testing"}]


def test_live_is_never_declared(access, catalogue):
    for status in ("live", "unknown"):
        with pytest.raises(AccessError) as refused:
            access.systems.set_status("S-G", status, actor=OPERATOR)
        assert refused.value.code == "bad_status"


def test_updating_a_system_replaces_its_items_and_audits_what_changed(access, catalogue):
    access.systems.update("S-G", name="英德市综合业务系统", item_codes=["YD-1", "YD-2"],
                          contact="", actor=OPERATOR)
    assert access.systems.item_codes("S-G") == ["YD-1", "YD-2"]
    view = access.systems.view("S-G")
    assert (view.name, view.contact, view.item_count) == ("英德市综合业务系统", None, 2)
    [event] = audit_events("access:system:updated")
    assert event.data == {"system": "S-G", "changed": ["items", "name"], "items_added": 1,
                          "items_removed": 1}
    access.systems.update("S-G", name="英德市综合业务系统", actor=OPERATOR)
    assert len(audit_events("access:system:updated")) == 1


def test_a_client_belongs_to_one_system(access, catalogue):
    client_a = catalogue.clients["a"].client_id
    with pytest.raises(AccessError) as taken:
        access.systems.attach_client("S-B", client_a, actor=OPERATOR)
    assert taken.value.code == "client_taken" and "S-A" in str(taken.value)
    access.systems.detach_client(client_a, actor=OPERATOR)
    access.systems.attach_client("S-B", client_a, actor=OPERATOR)
    access.systems.attach_client("S-B", client_a, actor=OPERATOR)  # already: nothing new
    assert access.systems.system_of_client(client_a) == "S-B"
    assert [e.data for e in audit_events("access:client:detached")] == [{"system": "S-A"}]
    assert [(e.client_id, e.data) for e in audit_events("access:client:attached")] == [
        (client_a, {"system": "S-B"})]
    with pytest.raises(AccessError) as unknown:
        access.systems.detach_client("no-such-client", actor=OPERATOR)
    assert unknown.value.code == "unknown_client"


def test_the_system_list_shows_live_status_last_login_and_logins_in_the_window(
        app, access, evidence, catalogue):
    catalogue.login("a")
    catalogue.login("a")
    catalogue.login("f")
    access.refresh(evidence)
    [day] = login_days(catalogue.clients["a"].client_id)
    a = access.systems.view("S-A")
    assert (a.live, a.effective_status, a.last_login_day, a.logins_in_window, a.clients,
            a.item_count) == (True, "live", day, 2, (catalogue.clients["a"].client_id,), 3)
    b = access.systems.view("S-B")
    assert (b.live, b.effective_status, b.last_login_day, b.logins_in_window, b.clients) == \
        (False, "connected", None, 0, ())

    def codes(**filters):
        page = access.systems.search(**filters)
        return [s.code for s in page.systems], page.total

    assert codes(status="live") == (["S-A", "S-F"], 2)
    assert codes(status="connected") == (["S-B", "S-H"], 2)  # declared, not proven
    assert codes(city="441800") == (["S-F", "S-G"], 2)
    assert codes(department_code="GDGA", limit=2, offset=1) == (["S-B", "S-C"], 4)
    assert codes(query="预约") == (["S-C"], 1)


def test_client_days_lists_each_day_of_the_window_with_zeros(app, access, evidence,
                                                              catalogue):
    client = catalogue.clients["c"].client_id
    catalogue.login("c")
    access.refresh(evidence)
    [day] = login_days(client)
    days = access.client_days(client, days=7)
    assert len(days) == 7 and days[-1][0] == access.today()
    assert [d for d, n in days if n] == [day]
    assert sum(n for _, n in days) == 1
    assert [d for d, _ in days] == [access.today() - timedelta(days=6 - i) for i in range(7)]

