"""Outages, slowness and rate limits: bounded retries, then a result, never an exception."""

from __future__ import annotations

import pytest

from realname.platform import HttpPlatform, Outcome, PlatformResult, Reason
from tests.unit.realname_platform.conftest import APP_ID, APP_SECRET, closed_port


@pytest.mark.parametrize(("mode", "code"), [("down", "CONNECTION_CLOSED"),
                                            ("error", "INTERNAL_ERROR")])
def test_an_outage_is_retried_twice_with_backoff_then_unavailable(
        platform, simulator, fake_time, mode, code):
    simulator.set_outage(mode)
    person = simulator.population()[0]
    result = platform.check_name_and_number(person.name, person.id_number)
    assert result == PlatformResult.unavailable(attempts=3)
    assert result.retryable and result.timed_out is False
    records = simulator.transactions()
    assert [r["code"] for r in records] == [code] * 3
    assert len({r["request_id"] for r in records}) == 1
    assert fake_time.sleeps == [0.25, 0.5]


def test_the_number_of_retries_is_configurable(make_platform, simulator):
    simulator.set_outage("error")
    person = simulator.population()[0]
    result = make_platform(retries=4).check_name_and_number(person.name, person.id_number)
    assert result.attempts == 5 and len(simulator.transactions()) == 5
    assert make_platform(retries=0).check_name_and_number(
        person.name, person.id_number).attempts == 1


def test_an_outage_that_ends_during_the_retries_is_survived(platform, simulator, fake_time):
    simulator.set_outage("error", seconds=0.6)  # over after the second backoff (0.25 + 0.5)
    person = simulator.population()[0]
    result = platform.check_name_and_number(person.name, person.id_number)
    assert (result.outcome, result.attempts) == (Outcome.MATCH, 3)
    assert [r["status"] for r in simulator.transactions()] == [500, 500, 200]


def test_a_slow_platform_times_out(make_platform, simulator):
    simulator.set_outage("slow", delay=5)
    adapter = make_platform(timeout=(2.0, 0.2), retries=1)
    person = simulator.population()[0]
    result = adapter.check_name_and_number(person.name, person.id_number)
    assert result == PlatformResult.timeout(attempts=2)
    assert result.timed_out is True and result.reason == Reason.TIMED_OUT and result.retryable


def test_a_429_is_honoured_then_the_check_succeeds(platform, simulator, fake_time):
    simulator.set_rate_limit(1)
    first, second = simulator.population()[:2]
    assert platform.check_name_and_number(first.name, first.id_number).matched
    result = platform.check_name_and_number(second.name, second.id_number)
    assert (result.outcome, result.attempts) == (Outcome.MATCH, 2)
    assert fake_time.sleeps == [1.0]  # Retry-After: 1, not the 0.25 s backoff
    assert [r["status"] for r in simulator.transactions()] == [200, 429, 200]


def test_a_persistent_429_ends_as_rate_limited(platform, simulator, fake_time):
    simulator.set_rate_limit(0)
    person = simulator.population()[0]
    result = platform.check_name_and_number(person.name, person.id_number)
    assert result == PlatformResult.rate_limited(attempts=3)
    assert fake_time.sleeps == [1.0, 1.0]


def test_a_retry_after_beyond_the_cap_gives_up_at_once(make_platform, simulator, fake_time):
    simulator.set_rate_limit(0)
    person = simulator.population()[0]
    result = make_platform(max_retry_after=0.5).check_name_and_number(
        person.name, person.id_number)
    assert result == PlatformResult.rate_limited(attempts=1)
    assert fake_time.sleeps == []


def test_a_closed_port_is_unavailable_without_raising(fake_time):
    url = f"http://127.0.0.1:{closed_port()}"
    with HttpPlatform(url, APP_ID, APP_SECRET, sleep=fake_time.sleep) as adapter:
        two = adapter.check_name_and_number("张三", "11010519491231002X")
        face = adapter.check_real_person("张三", "11010519491231002X", b"\x89PNG\r\n\x1a\n",
                                         "png")
    assert two == face == PlatformResult.unavailable(attempts=3)


def test_a_malformed_base_url_is_a_result_not_an_exception(fake_time):
    with HttpPlatform("not a url", APP_ID, APP_SECRET, sleep=fake_time.sleep,
                      retries=0) as adapter:
        assert adapter.check_name_and_number("张三", "11010519491231002X") == (
            PlatformResult.unavailable(attempts=1))
