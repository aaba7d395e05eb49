"""Audit actors are structured (design.md "Actors"): each kind has one label form, staff
always name their service hall, and an operator is who ran the command."""

from __future__ import annotations

import pytest

from idp.audit.actors import Actor, cli_operator


def test_each_kind_of_actor_has_one_label_form():
    assert [a.label for a in (Actor.citizen("u1"), Actor.staff("s7", "440300-futian"),
                              Actor.operator("ops-zhang"), Actor.client("c_1"),
                              Actor.system(), Actor.system("demo"), Actor.anonymous())] == [
        "citizen:u1", "staff:s7@440300-futian", "operator:ops-zhang", "client:c_1", "system",
        "system:demo", "anonymous"]


def test_staff_must_name_a_hall_and_nobody_else_may():
    with pytest.raises(ValueError):
        Actor("staff", "s7")
    with pytest.raises(ValueError):
        Actor("citizen", "u1", hall="440300-futian")
    with pytest.raises(ValueError):
        Actor("root", "x")


def test_the_cli_operator_is_idp_operator_or_the_login_name(monkeypatch):
    monkeypatch.setenv("IDP_OPERATOR", "ops-li")
    assert cli_operator() == Actor.operator("ops-li")
    monkeypatch.delenv("IDP_OPERATOR")
    monkeypatch.setattr("getpass.getuser", lambda: "root")
    assert cli_operator().label == "operator:root"
