"""Two-element check (name + ID number) through the HTTP adapter against the simulator."""

from __future__ import annotations

import re

from realname.platform import IdentityPlatform, Outcome, PlatformResult, Reason


def test_the_http_adapter_is_an_identity_platform(platform):
    assert isinstance(platform, IdentityPlatform)


def test_name_and_number_of_a_person_in_the_population_match(platform, simulator):
    person = simulator.population()[0]
    result = platform.check_name_and_number(person.name, person.id_number)
    [record] = simulator.transactions()
    assert result == PlatformResult(Outcome.MATCH, None, record["transaction_id"], attempts=1)
    assert result.matched and not result.retryable
    assert record["endpoint"] == "two-element" and record["result"] == "match"


def test_a_known_number_under_another_name_is_no_match_name_mismatch(platform, simulator):
    person = simulator.population()[1]
    result = platform.check_name_and_number(person.name + "某", person.id_number)
    assert (result.outcome, result.reason, result.score) == (
        Outcome.NO_MATCH, Reason.NAME_MISMATCH, None)
    assert result.transaction_id and result.transaction_id.startswith("T")


def test_an_unknown_number_is_not_found(platform, simulator):
    known = {p.id_number for p in simulator.population()}
    assert "11010519491231002X" not in known
    result = platform.check_name_and_number("张三", "11010519491231002X")
    assert (result.outcome, result.reason, result.attempts) == (
        Outcome.NOT_FOUND, Reason.NUMBER_NOT_FOUND, 1)


def test_a_person_added_at_run_time_matches(platform, simulator):
    simulator.add_person("李四", "11010519491231002x")
    assert platform.check_name_and_number("李四", "11010519491231002X").outcome is Outcome.MATCH


def test_a_malformed_number_is_an_invalid_request_and_is_not_retried(platform, simulator):
    result = platform.check_name_and_number("张三", "1234")
    assert result == PlatformResult.error(Reason.INVALID_REQUEST, attempts=1)
    assert [r["code"] for r in simulator.transactions()] == ["INVALID_REQUEST"]


def test_a_definitive_answer_is_sent_once_with_a_fresh_request_id(platform, simulator):
    person = simulator.population()[2]
    platform.check_name_and_number(person.name, person.id_number)
    platform.check_name_and_number("王五", person.id_number)
    first, second = simulator.transactions()
    assert re.fullmatch(r"[0-9a-f]{32}", first["request_id"])
    assert first["request_id"] != second["request_id"]
    assert first["transaction_id"] != second["transaction_id"]


def test_the_simulator_records_only_masked_numbers_and_names(platform, simulator):
    person = simulator.population()[3]
    platform.check_name_and_number(person.name, person.id_number)
    [record] = simulator.transactions()
    assert record["id_number"] == person.id_number[:4] + "*" * 10 + person.id_number[-4:]
    assert record["name"] == person.name[0] + "*" * (len(person.name) - 1)
    assert person.id_number not in repr(record)
