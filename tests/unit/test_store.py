"""The ephemeral-state Store contract, run against every implementation in use.

MemoryStore always; RedisStore as well when IDP_TEST_REDIS_URL is set. The atomic operations
carry protocol guarantees: single-use authorization codes (RFC 6749 §4.1.2, §10.5) rest on
getdel, replay caches for client assertion jti (RFC 7523 §3 item 7) on add.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator

import pytest

from idp.store import MemoryStore, RedisStore, Store

REDIS_URL = os.environ.get("IDP_TEST_REDIS_URL", "")
KINDS = ["memory", "redis"] if REDIS_URL else ["memory"]


@pytest.fixture(params=KINDS)
def store(request: pytest.FixtureRequest) -> Iterator[Store]:
    if request.param == "memory":
        yield MemoryStore()
        return
    redis_store = RedisStore(REDIS_URL, prefix="idp-test-store:")
    redis_store.flush()
    yield redis_store
    redis_store.flush()


def test_set_then_get(store):
    store.set("k", "v", 60)
    assert store.get("k") == "v"
    store.set("k", "w", 60)
    assert store.get("k") == "w"
    assert store.get("missing") is None


def test_add_sets_only_if_absent(store):
    assert store.add("jti", "first", 60) is True
    assert store.add("jti", "second", 60) is False
    assert store.get("jti") == "first"


def test_getdel_returns_the_value_once(store):
    store.set("code", "payload", 60)
    assert store.getdel("code") == "payload"
    assert store.getdel("code") is None
    assert store.get("code") is None


def test_incr_starts_at_one_and_counts(store):
    assert store.incr("counter", 60) == 1
    assert store.incr("counter", 60) == 2
    assert store.incr("counter", 60) == 3
    assert store.get("counter") == "3"


def test_sadd_smembers_srem(store):
    assert store.smembers("set") == set()
    store.sadd("set", "a", 60)
    store.sadd("set", "b", 60)
    store.sadd("set", "a", 60)
    assert store.smembers("set") == {"a", "b"}
    store.srem("set", "a")
    assert store.smembers("set") == {"b"}
    store.srem("set", "not-there")
    assert store.smembers("set") == {"b"}


def test_mget_returns_values_in_order_with_none_for_missing(store):
    store.set("one", "1", 60)
    store.set("three", "3", 60)
    assert store.mget(["one", "two", "three"]) == ["1", None, "3"]
    assert store.mget([]) == []


def test_delete_removes_every_named_key(store):
    store.set("a", "1", 60)
    store.set("b", "2", 60)
    store.set("c", "3", 60)
    store.delete("a", "b")
    assert store.mget(["a", "b", "c"]) == [None, None, "3"]
    store.delete()
    assert store.get("c") == "3"


def test_flush_empties_the_store(store):
    store.set("a", "1", 60)
    store.sadd("s", "m", 60)
    store.flush()
    assert store.get("a") is None
    assert store.smembers("s") == set()


def test_ping_answers_true(store):
    assert store.ping() is True


def test_concurrent_getdel_hands_the_value_to_exactly_one_caller(store):
    """A code redeemed by 20 requests at once is redeemed once (RFC 6749 §10.5)."""
    store.set("code:race", "the-value", 60)
    barrier = threading.Barrier(20)
    results: list[str | None] = []
    lock = threading.Lock()

    def redeem() -> None:
        barrier.wait()
        value = store.getdel("code:race")
        with lock:
            results.append(value)

    threads = [threading.Thread(target=redeem) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 20
    assert results.count("the-value") == 1
    assert results.count(None) == 19


def test_concurrent_add_lets_exactly_one_caller_win(store):
    barrier = threading.Barrier(20)
    wins: list[bool] = []
    lock = threading.Lock()

    def claim() -> None:
        barrier.wait()
        won = store.add("jti:race", "x", 60)
        with lock:
            wins.append(won)

    threads = [threading.Thread(target=claim) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert wins.count(True) == 1
    assert wins.count(False) == 19


def test_compare_and_set_replaces_only_the_expected_value(store):
    store.set("cas", "v1", 60)
    assert store.compare_and_set("cas", "v1", "v2", 60) is True
    assert store.get("cas") == "v2"
    assert store.compare_and_set("cas", "v1", "v3", 60) is False  # someone changed it
    assert store.get("cas") == "v2"


def test_compare_and_set_never_brings_back_a_deleted_key(store):
    store.set("gone", "v1", 60)
    store.delete("gone")
    assert store.compare_and_set("gone", "v1", "v2", 60) is False
    assert store.get("gone") is None
