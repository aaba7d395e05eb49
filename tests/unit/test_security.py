"""Security primitives: argon2id passwords (RFC 9106; OWASP parameters m=19456 KiB, t=2, p=1),
AES-256-GCM sealing (SecretBox) and purpose-separated HMAC-SHA256 (KeyedHash, RFC 2104).
"""

from __future__ import annotations

import base64

import pytest
from cryptography.exceptions import InvalidTag

from idp.security.crypto import KeyedHash, SecretBox
from idp.security.passwords import PasswordCheck, Passwords

SECRET = "unit-test-secret-" + "z" * 32


@pytest.fixture(scope="module")
def passwords() -> Passwords:
    return Passwords()


def test_hash_is_argon2id_with_owasp_defaults(passwords):
    hashed = passwords.hash("Correct-Horse-9")
    assert hashed.startswith("$argon2id$v=19$m=19456,t=2,p=1$")


def test_configured_parameters_appear_in_the_hash():
    hashed = Passwords(memory_kib=8192, time_cost=1, parallelism=1).hash("Correct-Horse-9")
    assert hashed.startswith("$argon2id$v=19$m=8192,t=1,p=1$")


def test_two_hashes_of_one_password_differ_by_salt(passwords):
    assert passwords.hash("Correct-Horse-9") != passwords.hash("Correct-Horse-9")


def test_verify_accepts_the_right_password(passwords):
    hashed = passwords.hash("Correct-Horse-9")
    assert passwords.verify(hashed, "Correct-Horse-9") == PasswordCheck(ok=True,
                                                                        needs_rehash=False)


def test_verify_refuses_a_wrong_password(passwords):
    hashed = passwords.hash("Correct-Horse-9")
    assert passwords.verify(hashed, "correct-horse-9") == PasswordCheck(ok=False)


def test_verify_refuses_a_malformed_hash(passwords):
    assert passwords.verify("not-a-hash", "Correct-Horse-9") == PasswordCheck(ok=False)


def test_needs_rehash_when_the_parameters_change(passwords):
    weak = Passwords(memory_kib=8192, time_cost=1).hash("Correct-Horse-9")
    assert passwords.verify(weak, "Correct-Horse-9") == PasswordCheck(ok=True, needs_rehash=True)


def test_verify_without_a_stored_hash_is_false(passwords):
    assert passwords.verify(None, "timing-equaliser") == PasswordCheck(ok=False)
    assert passwords.verify(None, "Correct-Horse-9") == PasswordCheck(ok=False)


def test_secretbox_round_trip():
    box = SecretBox(SECRET, "signing-key")
    sealed = box.seal('{"d": "private-part"}')
    assert sealed.startswith("v1.")
    assert "private-part" not in sealed
    assert box.open(sealed) == '{"d": "private-part"}'


def test_secretbox_seals_the_same_text_differently_each_time():
    box = SecretBox(SECRET, "signing-key")
    assert box.seal("same") != box.seal("same")


def test_secretbox_refuses_tampered_ciphertext():
    box = SecretBox(SECRET, "signing-key")
    raw = bytearray(base64.urlsafe_b64decode(box.seal("attack at dawn")[3:]))
    raw[15] ^= 0x01
    with pytest.raises(InvalidTag):
        box.open("v1." + base64.urlsafe_b64encode(bytes(raw)).decode())


def test_secretbox_of_another_purpose_cannot_open():
    sealed = SecretBox(SECRET, "signing-key").seal("attack at dawn")
    with pytest.raises(InvalidTag):
        SecretBox(SECRET, "id-number").open(sealed)


def test_secretbox_with_another_secret_cannot_open():
    sealed = SecretBox(SECRET, "signing-key").seal("attack at dawn")
    with pytest.raises(InvalidTag):
        SecretBox("another-secret-" + "y" * 32, "signing-key").open(sealed)


def test_secretbox_refuses_an_unknown_format():
    with pytest.raises(ValueError, match="^unknown sealed format$"):
        SecretBox(SECRET, "signing-key").open("v0.AAAA")


def test_keyed_hash_is_deterministic_hex_sha256():
    first, second = KeyedHash(SECRET, "client-secret"), KeyedHash(SECRET, "client-secret")
    digest = first.digest("s3cr3t")
    assert digest == second.digest("s3cr3t")
    assert len(digest) == 64 and int(digest, 16) >= 0
    assert digest != first.digest("s3cr3t ")


def test_keyed_hash_is_purpose_separated():
    assert KeyedHash(SECRET, "client-secret").digest("v") != \
        KeyedHash(SECRET, "pairwise-sub").digest("v")


def test_keyed_hash_matches_compares_against_the_stored_digest():
    hasher = KeyedHash(SECRET, "client-secret")
    stored = hasher.digest("s3cr3t")
    assert hasher.matches("s3cr3t", stored) is True
    assert hasher.matches("s3cr3T", stored) is False
    assert hasher.matches("s3cr3t", stored[:-1] + ("0" if stored[-1] != "0" else "1")) is False
