"""SMS one-time codes (SmsCodes): 6 digits, single use, bound to a purpose, 5 minutes, 5 tries,
and the sending limits (one per minute and ten per day per number, thirty per hour per client
IP), each enforced atomically so that parallel requests cannot exceed it.
"""

from __future__ import annotations

import json
import re
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from idp.accounts.codes import SendOutcome
from idp.audit.tags import Tag
from idp.extensions import get_store
from tests.conftest import last_code, sms_messages
from tests.integration.citizens import audit_events

PHONE = "13712345678"
IP = "203.0.113.7"


@pytest.fixture
def codes(app):
    return app.extensions["idp.sms_codes"]


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


def test_a_sent_code_has_six_digits_and_reaches_the_number(codes, sms_platform):
    assert codes.send(PHONE, "login", IP) == SendOutcome(True)
    [message] = sms_messages(sms_platform, PHONE)
    assert message["template"] == "login"
    assert re.fullmatch(r"\d{6}", message["params"]["code"])


def test_each_send_is_audited_with_the_masked_number_and_without_the_code(codes,
                                                                          sms_platform):
    codes.send(PHONE, "register", IP)
    code = last_code(sms_platform, PHONE, "register")
    [event] = audit_events(Tag.SMS_CODE_SENT.value)
    assert event.ip == IP
    assert event.data == {"purpose": "register", "phone": "137****5678", "notice": None,
                          "delivered": True, "error": None}
    assert code not in json.dumps(event.data) and PHONE not in json.dumps(event.data)


def test_the_right_code_is_accepted_once_only(codes, sms_platform):
    codes.send(PHONE, "login", IP)
    code = last_code(sms_platform, PHONE, "login")
    assert codes.check(PHONE, "login", code) is True
    assert codes.check(PHONE, "login", code) is False


def test_surrounding_spaces_are_ignored(codes, sms_platform):
    codes.send(PHONE, "login", IP)
    assert codes.check(PHONE, "login", " " + last_code(sms_platform, PHONE, "login") + " ")


def test_a_wrong_code_is_refused_and_the_right_one_still_works(codes, sms_platform):
    codes.send(PHONE, "login", IP)
    code = last_code(sms_platform, PHONE, "login")
    assert codes.check(PHONE, "login", _wrong(code)) is False
    assert codes.check(PHONE, "login", code) is True


def test_five_wrong_tries_kill_the_code_even_for_the_right_code_afterwards(codes, sms_platform):
    codes.send(PHONE, "login", IP)
    code = last_code(sms_platform, PHONE, "login")
    for _ in range(5):
        assert codes.check(PHONE, "login", _wrong(code)) is False
    assert codes.check(PHONE, "login", code) is False


def test_four_wrong_tries_leave_the_code_usable(codes, sms_platform):
    codes.send(PHONE, "login", IP)
    code = last_code(sms_platform, PHONE, "login")
    for _ in range(4):
        assert codes.check(PHONE, "login", _wrong(code)) is False
    assert codes.check(PHONE, "login", code) is True


def test_an_expired_code_is_refused(app, codes, sms_platform):
    codes.send(PHONE, "login", IP)
    code = last_code(sms_platform, PHONE, "login")
    get_store(app).delete(f"sms-code:login:{PHONE}")  # what the 300 s lifetime does
    assert codes.check(PHONE, "login", code) is False


def test_a_code_is_bound_to_its_purpose(codes, sms_platform):
    codes.send(PHONE, "login", IP)
    code = last_code(sms_platform, PHONE, "login")
    assert codes.check(PHONE, "reset", code) is False
    assert codes.check(PHONE, "login", code) is True


def test_a_code_is_bound_to_its_number(codes, sms_platform):
    codes.send(PHONE, "login", IP)
    code = last_code(sms_platform, PHONE, "login")
    assert codes.check("13787654321", "login", code) is False


def test_a_new_code_replaces_the_previous_one(app, codes, sms_platform):
    codes.send(PHONE, "login", IP)
    first = last_code(sms_platform, PHONE, "login")
    get_store(app).delete(f"sms-gap:{PHONE}")
    codes.send(PHONE, "login", IP)
    second = last_code(sms_platform, PHONE, "login")
    if first != second:
        assert codes.check(PHONE, "login", first) is False
    assert codes.check(PHONE, "login", second) is True


@pytest.mark.parametrize("entered", ["", "12345", "1234567", "abcdef", "12 456"])
def test_malformed_codes_are_refused(codes, sms_platform, entered):
    codes.send(PHONE, "login", IP)
    assert codes.check(PHONE, "login", entered) is False


def test_a_second_code_within_sixty_seconds_is_refused(codes, sms_platform):
    assert codes.send(PHONE, "login", IP).ok
    assert codes.send(PHONE, "reset", IP) == SendOutcome(False, "too_soon", 60)
    assert len(sms_messages(sms_platform, PHONE)) == 1


def test_ten_codes_a_day_per_number_then_refused(app, codes, sms_platform):
    store = get_store(app)
    for _ in range(10):
        assert codes.send(PHONE, "login", IP).ok
        store.delete(f"sms-gap:{PHONE}")  # the minute between sends has passed
    assert codes.send(PHONE, "login", IP) == SendOutcome(False, "daily_limit")
    assert len(sms_messages(sms_platform, PHONE)) == 10


def test_thirty_codes_an_hour_per_client_ip_then_refused(codes, sms_platform):
    phones = [f"1370000{n:04d}" for n in range(31)]
    for phone in phones[:30]:
        assert codes.send(phone, "register", IP).ok
    assert codes.send(phones[30], "register", IP) == SendOutcome(False, "ip_limit")
    assert sms_messages(sms_platform, phones[30]) == []
    assert codes.send("13787654321", "register", "198.51.100.1").ok  # another network may


def test_a_send_refused_by_the_ip_limit_does_not_hold_the_number(app, codes, sms_platform):
    """Nothing was sent, so the number's one-minute gap and daily count must stay untouched:
    the person can ask again at once from another network."""
    for n in range(30):
        codes.send(f"1370000{n:04d}", "register", IP)
    assert codes.send(PHONE, "register", IP) == SendOutcome(False, "ip_limit")
    assert get_store(app).get(f"sms-day:{PHONE}") is None
    assert codes.send(PHONE, "register", "198.51.100.1") == SendOutcome(True)


def test_twenty_parallel_sends_to_one_number_deliver_exactly_one(app, codes, sms_platform):
    start = threading.Barrier(20)

    def send(_: int) -> SendOutcome:
        with app.app_context():
            start.wait()
            return codes.send(PHONE, "login", IP)

    with ThreadPoolExecutor(max_workers=20) as pool:
        outcomes = list(pool.map(send, range(20)))
    assert outcomes.count(SendOutcome(True)) == 1
    assert outcomes.count(SendOutcome(False, "too_soon", 60)) == 19
    assert len(sms_messages(sms_platform, PHONE)) == 1


def test_twenty_parallel_checks_of_the_right_code_accept_exactly_one(app, codes,
                                                                      sms_platform):
    """Five rounds, each: a fresh code, then twenty simultaneous checks of it."""
    accepted = []
    for _ in range(5):
        get_store(app).delete(f"sms-gap:{PHONE}")
        assert codes.send(PHONE, "login", IP).ok
        code = last_code(sms_platform, PHONE, "login")
        start = threading.Barrier(20)

        def check(_: int, code: str = code, start: threading.Barrier = start) -> bool:
            start.wait()
            return bool(codes.check(PHONE, "login", code))

        with ThreadPoolExecutor(max_workers=20) as pool:
            accepted.append(list(pool.map(check, range(20))).count(True))
    assert accepted == [1, 1, 1, 1, 1]
