"""The picture-code service on the in-process store, with the store's clock moved: a challenge
lives five minutes, answers once, and folds what a Chinese keyboard types (ADR 0013)."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from idp.accounts.captcha import Captchas
from idp.store import MemoryStore


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The store's monotonic clock, moved by hand."""
    now = [time.monotonic()]
    monkeypatch.setattr("idp.store.time.monotonic", lambda: now[0])
    return now


def _issued(captchas: Captchas) -> tuple[str, str]:
    challenge = captchas.issue("192.0.2.1")
    assert challenge is not None
    answer = captchas.store.get("captcha:" + challenge)
    assert answer is not None
    return challenge, answer


def test_a_challenge_is_answerable_for_five_minutes_and_not_after(clock):
    captchas = Captchas(MemoryStore())
    early, early_answer = _issued(captchas)
    late, late_answer = _issued(captchas)
    clock[0] += 299
    assert captchas.check(early, early_answer) is True
    clock[0] += 2
    assert captchas.image(late) is None
    assert captchas.check(late, late_answer) is False


def test_a_wrong_answer_uses_the_challenge_up():
    captchas = Captchas(MemoryStore())
    challenge, answer = _issued(captchas)
    wrong = "".join(str((int(d) + 1) % 10) for d in answer)
    assert captchas.check(challenge, wrong) is False
    assert captchas.check(challenge, answer) is False


@pytest.mark.parametrize("typed", ["{a}", " {a} ", "{wide}", "{spaced}", "{a}\u3000"])
def test_answers_are_folded_before_comparing(typed):
    captchas = Captchas(MemoryStore())
    challenge, answer = _issued(captchas)
    given = typed.format(a=answer, wide="".join(chr(ord(d) + 0xFEE0) for d in answer),
                         spaced=" ".join(answer))
    assert captchas.check(challenge, given) is True


def test_of_parallel_right_answers_exactly_one_is_accepted():
    captchas = Captchas(MemoryStore())
    challenge, answer = _issued(captchas)
    start = threading.Barrier(8)

    def answer_it() -> bool:
        start.wait()
        return captchas.check(challenge, answer)

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: answer_it(), range(8)))
    assert sorted(results) == [False] * 7 + [True]
