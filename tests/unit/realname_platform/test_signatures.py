"""Both directions are signed: the platform refuses bad requests, the adapter bad answers."""

from __future__ import annotations

import hashlib
import secrets

import pytest

from realname.platform import Outcome, PlatformResult, Reason
from tests.unit.realname_platform.conftest import APP_SECRET, documented_signature, raw_post


def test_a_wrong_secret_is_rejected_and_not_retried(make_platform, simulator, fake_time):
    adapter = make_platform(app_secret="not-the-secret")
    person = simulator.population()[0]
    result = adapter.check_name_and_number(person.name, person.id_number)
    assert result == PlatformResult.rejected(attempts=1)
    assert not result.retryable and fake_time.sleeps == []
    assert [r["code"] for r in simulator.transactions()] == ["BAD_SIGNATURE"]


def test_an_unknown_app_id_is_rejected(make_platform, simulator):
    person = simulator.population()[0]
    result = make_platform(app_id="someone-else").check_name_and_number(
        person.name, person.id_number)
    assert result == PlatformResult.rejected(attempts=1)
    assert [r["code"] for r in simulator.transactions()] == ["UNKNOWN_APP"]


def test_a_replayed_nonce_is_refused(simulator, fake_time):
    person = simulator.population()[0]
    payload = {"name": person.name, "id_number": person.id_number}
    nonce = secrets.token_hex(16)
    first, _ = raw_post(simulator.url, payload, nonce=nonce, timestamp=fake_time.now)
    replay, _ = raw_post(simulator.url, payload, nonce=nonce, timestamp=fake_time.now)
    assert first.status_code == 200 and first.json()["result"] == "match"
    assert replay.status_code == 401 and replay.json()["code"] == "REPLAYED_NONCE"


@pytest.mark.parametrize(("skew", "status"), [(-301, 401), (301, 401), (-299, 200), (299, 200)])
def test_the_timestamp_must_be_within_300_seconds(simulator, fake_time, skew, status):
    person = simulator.population()[0]
    response, _ = raw_post(simulator.url, {"name": person.name, "id_number": person.id_number},
                           timestamp=fake_time.now + skew)
    assert response.status_code == status
    assert response.json()["code"] == ("STALE_REQUEST" if status == 401 else "OK")


def test_the_platform_signs_its_answer_as_documented(simulator, fake_time):
    person = simulator.population()[0]
    response, nonce = raw_post(simulator.url, {"name": person.name,
                                               "id_number": person.id_number},
                               timestamp=fake_time.now)
    transaction_id = response.headers["X-Transaction-Id"]
    assert transaction_id == response.json()["transaction_id"]
    assert response.headers["X-Signature"] == documented_signature(
        APP_SECRET, "200", transaction_id, nonce, hashlib.sha256(response.content).hexdigest())


def test_the_same_request_id_is_one_transaction_on_the_platform(simulator, fake_time):
    person = simulator.population()[0]
    payload = {"name": person.name, "id_number": person.id_number}
    first, _ = raw_post(simulator.url, payload, request_id="r" * 32, timestamp=fake_time.now)
    again, _ = raw_post(simulator.url, payload, request_id="r" * 32, timestamp=fake_time.now)
    assert first.json()["transaction_id"] == again.json()["transaction_id"]
    assert [r["duplicate"] for r in simulator.transactions()] == [False, True]


def test_a_forged_match_is_a_bad_response(platform, simulator):
    simulator.set_tamper("forge")
    person = simulator.population()[0]
    result = platform.check_name_and_number("王五", person.id_number)
    assert simulator.transactions()[0]["result"] == "no_match"
    assert result == PlatformResult.bad_response(attempts=1)
    assert not result.matched and result.reason == Reason.BAD_RESPONSE


def test_a_forged_face_match_is_a_bad_response(platform, simulator):
    simulator.set_tamper("forge")
    person, other = simulator.population()[:2]
    result = platform.check_real_person(person.name, person.id_number,
                                        simulator.portrait(other.id_number), "png")
    assert result == PlatformResult.bad_response(attempts=1)


def test_an_unsigned_answer_is_a_bad_response(platform, simulator):
    simulator.set_tamper("unsigned")
    person = simulator.population()[0]
    assert platform.check_name_and_number(person.name, person.id_number) == (
        PlatformResult.bad_response(attempts=1))


def test_an_old_signed_match_replayed_for_another_request_is_a_bad_response(
        platform, simulator):
    person = simulator.population()[0]
    assert platform.check_name_and_number(person.name, person.id_number).matched
    simulator.set_tamper("replay")
    result = platform.check_name_and_number("张三", "11010519491231002X")
    assert result.outcome is Outcome.ERROR and result.reason == Reason.BAD_RESPONSE
    simulator.set_tamper("off")
    assert platform.check_name_and_number("张三", "11010519491231002X").outcome is (
        Outcome.NOT_FOUND)
