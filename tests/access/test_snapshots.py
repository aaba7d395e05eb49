"""Monthly snapshots (月度通报): storing a month twice leaves the same rows, a stored month
reads back as the report it was, and a scope's trend comes from the stored months."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from idp.access.errors import AccessError
from idp.access.models import MonthlySnapshot
from idp.access.snapshots import month_of
from idp.extensions import db
from tests.access.conftest import DAY, OPERATOR
from tests.integration.citizens import audit_events


def _rows():
    db.session.expire_all()
    return sorted((r.month, r.scope, r.name, r.items, r.declared, r.verified, r.target)
                  for r in db.session.execute(select(MonthlySnapshot)).scalars())


def test_storing_a_month_twice_leaves_the_same_rows(access, evidence, catalogue):
    catalogue.login("a")
    access.refresh(evidence)
    month = month_of(access.today())
    stored = access.snapshot(actor=OPERATOR)
    first = _rows()
    assert stored == len(first) == len(access.report().rates)
    assert access.snapshot(month, actor=OPERATOR) == stored
    assert _rows() == first
    assert ((month, "dept:GDGA:licensing", "广东省公安厅", 4, 3, 2, 100.0) in first)
    assert [e.data for e in audit_events("access:snapshot:stored")] == [
        {"month": month, "scopes": stored}] * 2


def test_a_stored_month_reads_back_as_the_report_it_was(access, evidence, catalogue):
    catalogue.login("f")
    access.refresh(evidence)
    current = access.report()
    access.snapshot(actor=OPERATOR)
    access.systems.set_status("S-B", "retired", actor=OPERATOR)  # later changes
    stored = access.stored_report(month_of(access.today()))
    assert stored is not None and stored.month == month_of(access.today())
    assert [r.to_dict() for r in stored] == [r.to_dict() for r in current]
    assert access.report().get("dept:GDGA:licensing").declared == 2
    assert stored.get("dept:GDGA:licensing").declared == 3
    assert access.stored_report("2001-01") is None


def test_a_later_snapshot_of_the_month_replaces_its_figures(access, evidence, catalogue):
    access.refresh(evidence)
    access.snapshot(actor=OPERATOR)
    access.systems.set_status("S-B", "retired", actor=OPERATOR)
    access.snapshot(actor=OPERATOR)
    month = month_of(access.today())
    [row] = [r for r in _rows() if r[1] == "dept:GDGA:licensing"]
    assert row == (month, "dept:GDGA:licensing", "广东省公安厅", 4, 2, 0, 100.0)


def test_the_trend_lists_the_stored_months_oldest_first(app, access, evidence, catalogue):
    access.refresh(evidence)
    first_month = month_of(access.today())
    access.snapshot(actor=OPERATOR)
    app.extensions["idp.clock"].advance(31 * DAY)
    access.systems.set_status("S-G", "connected", actor=OPERATOR)
    access.snapshot(actor=OPERATOR)
    second_month = month_of(access.today())
    trend = access.trend("city:441800")
    assert [(p.month, p.items, p.declared, p.verified, p.declared_rate) for p in trend] == [
        (first_month, 8, 3, 0, 37.5), (second_month, 8, 5, 0, 62.5)]
    assert access.trend("city:441800", months=1)[0].month == second_month


@pytest.mark.parametrize("month", ["2026-13", "26-01", "2001-01"])
def test_only_this_or_last_month_in_the_right_form_can_be_stored(access, month):
    with pytest.raises(AccessError) as refused:
        access.snapshot(month, actor=OPERATOR)
    assert refused.value.code == "bad_month"


def test_an_unknown_scope_is_refused(access):
    for scope in ("city:441802", "county:441800", "dept:X:other", "nowhere"):
        with pytest.raises(AccessError) as refused:
            access.trend(scope)
        assert refused.value.code == "unknown_scope"
