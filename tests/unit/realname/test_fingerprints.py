"""Keyed fingerprints: stable per key, found under old keys, re-made under the current one."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from realname.fingerprints import Fingerprinter, constant_time_equal

OLD = b"o" * 32
NEW = b"n" * 32
NUMBER = "11010519491231002X"


def test_fingerprint_is_kid_and_hmac_sha256_of_the_value():
    fp = Fingerprinter({"k1": OLD}, "k1").fingerprint(NUMBER)
    assert fp == "k1." + hmac.new(OLD, NUMBER.encode(), hashlib.sha256).hexdigest()


def test_row_stored_under_an_old_key_is_found_and_refingerprinted():
    stored = Fingerprinter({"k1": OLD}, "k1").fingerprint(NUMBER)
    rotated = Fingerprinter({"k1": OLD, "k2": NEW}, "k2")
    candidates = rotated.candidates(NUMBER)
    assert candidates[0] == rotated.fingerprint(NUMBER)
    assert candidates[0].startswith("k2.")
    assert stored in candidates
    assert not rotated.is_current(stored)
    assert rotated.is_current(candidates[0])
    assert rotated.matches(NUMBER, stored) and rotated.matches(NUMBER, candidates[0])


def test_fingerprints_differ_between_keys_and_values():
    rotated = Fingerprinter({"k1": OLD, "k2": NEW}, "k2")
    a, b = rotated.candidates(NUMBER)
    assert a.split(".")[1] != b.split(".")[1]
    assert rotated.fingerprint(NUMBER) != rotated.fingerprint("110105194912310037")


def test_matches_refuses_other_values_unknown_keys_and_garbage():
    fingerprinter = Fingerprinter({"k1": OLD}, "k1")
    stored = fingerprinter.fingerprint(NUMBER)
    assert not fingerprinter.matches("440524188001010014", stored)
    assert not fingerprinter.matches(NUMBER, "k9." + stored.split(".")[1])
    assert not fingerprinter.matches(NUMBER, "not a fingerprint")
    assert Fingerprinter.key_id("not a fingerprint") is None


def test_short_keys_are_refused_with_a_clear_error():
    with pytest.raises(ValueError, match="at least 32 bytes"):
        Fingerprinter({"k1": b"x" * 31}, "k1")


@pytest.mark.parametrize(("keys", "current"), [
    ({}, "k1"),
    ({"k1": OLD}, "k2"),
    ({"k.1": OLD}, "k.1"),
    ({"": OLD}, ""),
])
def test_bad_keyrings_are_refused(keys, current):
    with pytest.raises(ValueError):
        Fingerprinter(keys, current)


def test_repr_never_shows_the_keys():
    text = repr(Fingerprinter({"k1": OLD, "k2": NEW}, "k2"))
    assert "ooo" not in text and "nnn" not in text and "k2" in text


def test_constant_time_equal_compares_exactly():
    assert constant_time_equal("k1.abc", "k1.abc")
    assert not constant_time_equal("k1.abc", "k1.abd")
    assert not constant_time_equal("k1.abc", "k1.ab")
