"""`idp halls` and `idp staff`: clear output, --json, exit 1 with nothing written on a
refusal, and a one-time password with an enrolment link built from the issuer."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from idp.counter.cli import halls_group, staff_group
from idp.counter.models import ServiceHall, StaffAccount
from idp.extensions import db
from tests.conftest import remember_secret
from tests.counter.conftest import id_number
from tests.integration.citizens import audit_events


def _run(app, group, *args: str):
    return app.test_cli_runner().invoke(group, list(args))


def _count(model) -> int:
    return int(db.session.execute(select(func.count()).select_from(model)).scalar_one())


def test_halls_create_makes_a_hall_with_its_division_and_allow_list(app):
    done = _run(app, halls_group, "create", "--code", "QY-QC", "--name", "清城区政务服务中心",
                "--division", "441802", "--ip-allow", "10.8.0.0/16", "--json")
    assert done.exit_code == 0, done.output
    assert json.loads(done.output) == {"code": "QY-QC", "name": "清城区政务服务中心",
                                       "division_code": "441802",
                                       "ip_allowlist": ["10.8.0.0/16"]}
    [created] = audit_events("counter:hall:created")
    assert created.actor.startswith("operator:")
    listed = _run(app, halls_group, "list", "--json")
    assert [h["code"] for h in json.loads(listed.output)] == ["QY-QC"]


def test_halls_create_refuses_an_unknown_division_and_writes_nothing(app):
    for division in ("441899", "4418", "ABCDEF"):
        refused = _run(app, halls_group, "create", "--code", "X1", "--name", "某中心",
                       "--division", division)
        assert refused.exit_code == 2
        assert refused.output.startswith("Error: ")
    assert _count(ServiceHall) == 0 and audit_events("counter:hall:created") == []


def test_halls_create_refuses_a_duplicate_code_and_a_bad_network(app):
    assert _run(app, halls_group, "create", "--code", "SW", "--name", "汕尾",
                "--division", "441500").exit_code == 0
    again = _run(app, halls_group, "create", "--code", "SW", "--name", "汕尾2",
                 "--division", "441500")
    assert again.exit_code == 2 and "already exists" in again.output
    bad = _run(app, halls_group, "create", "--code", "SW2", "--name", "汕尾",
               "--division", "441500", "--ip-allow", "10.0.0.300/8")
    assert bad.exit_code == 2 and "CIDR" in bad.output
    assert _count(ServiceHall) == 1


def test_staff_create_prints_a_one_time_password_and_an_enrolment_link(app):
    _run(app, halls_group, "create", "--code", "QY", "--name", "清远", "--division", "441800")
    done = _run(app, staff_group, "create", "--username", "Qy.Li", "--hall", "QY", "--role",
                "supervisor", "--name", "李主管", "--id-number", id_number(), "--json")
    assert done.exit_code == 0, done.output
    out = json.loads(done.output)
    remember_secret(out["one_time_password"], out["enrolment_link"].rsplit("/", 1)[1])
    issuer = app.extensions["idp.settings"].issuer
    assert out["username"] == "qy.li" and out["role"] == "supervisor" and out["hall"] == "QY"
    assert out["enrolment_link"].startswith(issuer + "/counter/enrol/")
    assert out["enrolled"] is False
    member = db.session.execute(select(StaffAccount)).scalar_one()
    assert member.id_fingerprint is not None and member.password_hash != \
        out["one_time_password"]
    enrol = app.test_client().get(out["enrolment_link"][len(issuer):])
    assert enrol.status_code == 200


def test_staff_create_refuses_an_unknown_hall_and_writes_nothing(app):
    refused = _run(app, staff_group, "create", "--username", "nobody", "--hall", "NOPE",
                   "--role", "clerk")
    assert refused.exit_code == 2 and "no hall" in refused.output
    assert _count(StaffAccount) == 0 and audit_events("counter:staff:created") == []


def test_staff_disable_ends_the_staff_members_sessions(app, make_staff):
    clerk = make_staff("clerk")
    done = _run(app, staff_group, "disable", "--username", clerk.username)
    assert done.exit_code == 0, done.output
    assert clerk.client.get("/counter/").status_code == 303
    assert _run(app, staff_group, "disable", "--username", "ghost").exit_code == 2
