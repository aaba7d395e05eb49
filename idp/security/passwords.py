"""Password hashing with argon2id; the only module that imports argon2."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError


@dataclass(frozen=True)
class PasswordCheck:
    ok: bool
    needs_rehash: bool = False


class Passwords:
    """argon2id hasher with configurable cost; parameters default to OWASP's (19 MiB, t=2, p=1)."""

    def __init__(self, memory_kib: int = 19456, time_cost: int = 2, parallelism: int = 1,
                 concurrency: int = 0) -> None:
        self._hasher = PasswordHasher(
            time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism, type=Type.ID
        )
        # argon2 releases the GIL, so every request thread could hash at once; hashes sharing
        # a core gain no throughput and compete for its cache (19 MiB each). At most one at a
        # time per core this process owns (`concurrency`, default: the cores it may run on).
        self._gate = threading.BoundedSemaphore(concurrency or available_cores())
        # A fixed hash to verify against when the account does not exist, so that
        # "no such account" costs the same time as "wrong password".
        self._dummy = self._hasher.hash("timing-equaliser")

    def hash(self, password: str) -> str:
        with self._gate:
            return self._hasher.hash(password)

    def verify(self, stored: str | None, password: str) -> PasswordCheck:
        target = stored or self._dummy
        try:
            with self._gate:
                self._hasher.verify(target, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return PasswordCheck(ok=False)
        if stored is None:
            return PasswordCheck(ok=False)
        return PasswordCheck(ok=True, needs_rehash=self._hasher.check_needs_rehash(stored))


def available_cores() -> int:
    """The cores this process may run on (its CPU affinity: `taskset`, a container's cpuset)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not Linux
        return max(1, os.cpu_count() or 1)
