"""Keyed fingerprints of identifiers (HMAC-SHA256) for lookups, under rotating keys."""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping

MIN_KEY_BYTES = 32
_KID = re.compile(r"[A-Za-z0-9_-]{1,32}")


def constant_time_equal(a: str, b: str) -> bool:
    """Compare two fingerprints (or any secrets) in time independent of where they differ."""
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))


class Fingerprinter:
    """Fingerprints a value as "<kid>.<hex HMAC-SHA256>" under the current key.

    The caller normalises the value first (check(...).normalised, with the document type in
    front if several types share the column). To rotate: add a new key and make it current;
    look rows up with candidates(value) (every key, current first) and re-fingerprint a row
    found under an older key (is_current() is False) with fingerprint(value). Once no row is
    left under a key, drop it. Keys are never shown by repr()."""

    def __init__(self, keys: Mapping[str, bytes], current: str) -> None:
        if not keys:
            raise ValueError("Fingerprinter needs at least one key")
        for kid, key in keys.items():
            if not _KID.fullmatch(kid):
                raise ValueError(f"key id {kid!r} must be 1-32 letters, digits, '_' or '-'")
            if not isinstance(key, bytes):
                raise ValueError(f"key {kid!r} must be bytes")
            if len(key) < MIN_KEY_BYTES:
                raise ValueError(f"key {kid!r} is {len(key)} bytes; fingerprint keys must be "
                                 f"at least {MIN_KEY_BYTES} bytes")
        if current not in keys:
            raise ValueError(f"the current key {current!r} is not among the keys")
        self._keys = dict(keys)
        self.current = current

    def __repr__(self) -> str:
        return f"Fingerprinter(current={self.current!r}, key_ids={sorted(self._keys)!r})"

    def fingerprint(self, value: str) -> str:
        """The value's fingerprint under the current key."""
        return self._under(self.current, value)

    def candidates(self, value: str) -> list[str]:
        """The value's fingerprint under every key, the current key's first: look a row up
        with `WHERE fingerprint IN (...)`."""
        others = [kid for kid in self._keys if kid != self.current]
        return [self._under(kid, value) for kid in [self.current, *others]]

    def is_current(self, fingerprint: str) -> bool:
        """Whether a stored fingerprint was made with the current key (else: re-fingerprint)."""
        return self.key_id(fingerprint) == self.current

    def matches(self, value: str, fingerprint: str) -> bool:
        """Whether a stored fingerprint is this value's, under whichever known key made it."""
        kid = self.key_id(fingerprint)
        if kid not in self._keys:
            return False
        return constant_time_equal(self._under(kid, value), fingerprint)

    @staticmethod
    def key_id(fingerprint: str) -> str | None:
        """The key id a fingerprint names, or None if it is not "<kid>.<hex>"."""
        kid, dot, digest = fingerprint.partition(".")
        return kid if dot and _KID.fullmatch(kid) and digest else None

    def _under(self, kid: str, value: str) -> str:
        digest = hmac.new(self._keys[kid], value.encode("utf-8"), hashlib.sha256).hexdigest()
        return f"{kid}.{digest}"
