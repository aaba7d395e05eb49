"""The ephemeral-state store (sessions, codes, replay caches, counters): Redis or in-process."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from idp.settings import SENTINEL_SCHEMES, parse_sentinel_url

if TYPE_CHECKING:
    import redis

Members = set[str]  # named here: `set` is also a Store method
T = TypeVar("T")


class StoreUnavailable(Exception):  # noqa: N818 - the name says what callers handle
    """The store did not answer (down, frozen, timed out). Callers refuse service (503); no
    security decision depends on the store, so refusing is always safe."""


class Store(Protocol):
    """The small interface every piece of ephemeral state goes through."""

    kind: str

    def get(self, key: str) -> str | None: ...
    def mget(self, keys: list[str]) -> list[str | None]: ...
    def set(self, key: str, value: str, ttl: int) -> None: ...
    def add(self, key: str, value: str, ttl: int) -> bool:
        """Set only if absent; True if this call set it (atomic)."""
        ...
    def getdel(self, key: str) -> str | None:
        """Return and delete in one atomic step (single use)."""
        ...
    def compare_and_set(self, key: str, expected: str, value: str, ttl: int) -> bool:
        """Replace the value only if it is still `expected` (atomic); a key that is gone stays
        gone. True if this call replaced it."""
        ...
    def delete(self, *keys: str) -> None: ...
    def incr(self, key: str, ttl: int) -> int:
        """Increment; the first increment starts the key's lifetime."""
        ...
    def sadd(self, key: str, member: str, ttl: int) -> None: ...
    def srem(self, key: str, member: str) -> None: ...
    def smembers(self, key: str) -> Members: ...
    def ping(self) -> bool: ...
    def flush(self) -> None:
        """Remove every key under this store's prefix (tests only)."""
        ...


class MemoryStore:
    """In-process store for the single-process embedded default; never for several workers."""

    kind = "memory"

    def __init__(self) -> None:
        self._data: dict[str, tuple[object, float]] = {}
        self._lock = threading.Lock()

    def _live(self, key: str) -> object | None:
        item = self._data.get(key)
        if item is None:
            return None
        value, expires = item
        if expires <= time.monotonic():
            del self._data[key]
            return None
        return value

    def get(self, key: str) -> str | None:
        with self._lock:
            value = self._live(key)
            return value if isinstance(value, str) else None

    def mget(self, keys: list[str]) -> list[str | None]:
        return [self.get(k) for k in keys]

    def set(self, key: str, value: str, ttl: int) -> None:
        with self._lock:
            self._data[key] = (value, time.monotonic() + ttl)

    def add(self, key: str, value: str, ttl: int) -> bool:
        with self._lock:
            if self._live(key) is not None:
                return False
            self._data[key] = (value, time.monotonic() + ttl)
            return True

    def getdel(self, key: str) -> str | None:
        with self._lock:
            value = self._live(key)
            self._data.pop(key, None)
            return value if isinstance(value, str) else None

    def compare_and_set(self, key: str, expected: str, value: str, ttl: int) -> bool:
        with self._lock:
            if self._live(key) != expected:
                return False
            self._data[key] = (value, time.monotonic() + ttl)
            return True

    def delete(self, *keys: str) -> None:
        with self._lock:
            for key in keys:
                self._data.pop(key, None)

    def incr(self, key: str, ttl: int) -> int:
        with self._lock:
            value = self._live(key)
            if value is None:
                self._data[key] = ("1", time.monotonic() + ttl)
                return 1
            count = int(str(value)) + 1
            self._data[key] = (str(count), self._data[key][1])
            return count

    def sadd(self, key: str, member: str, ttl: int) -> None:
        with self._lock:
            value = self._live(key)
            members = set(value) if isinstance(value, frozenset) else set()
            members.add(member)
            self._data[key] = (frozenset(members), time.monotonic() + ttl)

    def srem(self, key: str, member: str) -> None:
        with self._lock:
            value = self._live(key)
            if isinstance(value, frozenset):
                self._data[key] = (value - {member}, self._data[key][1])

    def smembers(self, key: str) -> Members:
        with self._lock:
            value = self._live(key)
            return set(value) if isinstance(value, frozenset) else set()

    def ping(self) -> bool:
        return True

    def flush(self) -> None:
        with self._lock:
            self._data.clear()


class RedisStore:
    """Redis-backed store: the production implementation, shared by every worker.

    Every call is bounded by `timeout` seconds (connect and read). After a failure the store
    answers StoreUnavailable at once for `pause` seconds instead of trying again, so a frozen
    Redis cannot tie up every worker thread, and endpoints that need no store keep serving."""

    kind = "redis"

    def __init__(self, url: str, prefix: str = "idp:", timeout: float = 0.5,
                 pause: float = 1.0, *, client: redis.Redis | None = None) -> None:
        """`url` is redis://, rediss://, unix:// or redis+sentinel:// (docs/configuration.md);
        `client`, if given, is an already-built client to use instead (`_sentinel_client`)."""
        import redis

        if client is not None:
            self._redis = client
        elif url.startswith(SENTINEL_SCHEMES):
            self._redis = _sentinel_client(url, timeout)
        else:
            self._redis = redis.Redis.from_url(url, **_client_options(timeout))
        self._errors: tuple[type[BaseException], ...] = (redis.RedisError, OSError)
        self._prefix = prefix
        self.pause = pause  # seconds to fail fast after a failure
        self._cas = self._redis.register_script(
            "if redis.call('GET', KEYS[1]) == ARGV[1] then "
            "redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3]) return 1 else return 0 end")
        self._failed_at = float("-inf")

    def _k(self, key: str) -> str:
        return self._prefix + key

    def _call(self, operation: Callable[[], T]) -> T:
        if time.monotonic() < self._failed_at + self.pause:
            raise StoreUnavailable("the store did not answer a moment ago")
        try:
            return operation()
        except self._errors as exc:
            self._failed_at = time.monotonic()
            raise StoreUnavailable(type(exc).__name__) from exc

    def server_warnings(self) -> list[str]:
        """What an operator must fix about this Redis (docs/deployment.md), checked at start.
        Raises StoreUnavailable if it does not answer, ValueError if it is too old."""
        info = self._call(lambda: self._redis.info("server"))
        version = str(info.get("redis_version", "0"))
        if tuple(int(p) for p in version.split(".")[:2] if p.isdigit()) < (6, 2):
            raise ValueError(f"Redis {version} is too old: 6.2 or newer is required (GETDEL)")
        warnings = []
        try:
            config = self._call(lambda: self._redis.config_get("maxmemory-policy",
                                                               "appendonly"))
        except StoreUnavailable:
            return ["Redis refuses CONFIG GET: check by hand that appendonly is yes and "
                    "maxmemory-policy is noeviction (docs/deployment.md)"]
        if config.get("maxmemory-policy") != "noeviction":
            warnings.append(f"Redis maxmemory-policy is {config.get('maxmemory-policy')}: use "
                            "noeviction, so a full Redis refuses writes instead of dropping "
                            "sessions and codes (docs/deployment.md)")
        if config.get("appendonly") != "yes":
            warnings.append("Redis appendonly is off: a restart logs everyone out; use AOF "
                            "persistence (docs/deployment.md)")
        return warnings

    def get(self, key: str) -> str | None:
        return self._call(lambda: self._redis.get(self._k(key)))  # type: ignore[return-value]

    def mget(self, keys: list[str]) -> list[str | None]:
        if not keys:
            return []
        return self._call(lambda: self._redis.mget([self._k(k) for k in keys]))  # type: ignore[return-value,arg-type]

    def set(self, key: str, value: str, ttl: int) -> None:
        self._call(lambda: self._redis.set(self._k(key), value, ex=max(int(ttl), 1)))

    def add(self, key: str, value: str, ttl: int) -> bool:
        return bool(self._call(lambda: self._redis.set(self._k(key), value,
                                                       ex=max(int(ttl), 1), nx=True)))

    def getdel(self, key: str) -> str | None:
        return self._call(lambda: self._redis.getdel(self._k(key)))  # type: ignore[return-value]

    def compare_and_set(self, key: str, expected: str, value: str, ttl: int) -> bool:
        return bool(self._call(lambda: self._cas(keys=[self._k(key)],
                                                 args=[expected, value, max(int(ttl), 1)])))

    def delete(self, *keys: str) -> None:
        if keys:
            self._call(lambda: self._redis.delete(*[self._k(k) for k in keys]))

    def incr(self, key: str, ttl: int) -> int:
        def incr() -> int:
            pipe = self._redis.pipeline(transaction=True)
            pipe.incr(self._k(key))
            pipe.expire(self._k(key), max(int(ttl), 1), nx=True)
            count, _ = pipe.execute()
            return int(count)

        return self._call(incr)

    def sadd(self, key: str, member: str, ttl: int) -> None:
        def sadd() -> None:
            pipe = self._redis.pipeline(transaction=True)
            pipe.sadd(self._k(key), member)
            pipe.expire(self._k(key), max(int(ttl), 1))
            pipe.execute()

        self._call(sadd)

    def srem(self, key: str, member: str) -> None:
        self._call(lambda: self._redis.srem(self._k(key), member))

    def smembers(self, key: str) -> Members:
        members: set[str] = self._call(
            lambda: self._redis.smembers(self._k(key)))  # type: ignore[arg-type,return-value,unused-ignore]
        return set(members)

    def ping(self) -> bool:
        try:
            return bool(self._call(self._redis.ping))
        except StoreUnavailable:
            return False

    def flush(self) -> None:
        keys = list(self._redis.scan_iter(match=self._prefix + "*", count=1000))
        if keys:
            self._redis.delete(*keys)


def _client_options(timeout: float) -> dict[str, Any]:
    """Timeouts and retries of the store's connections to Redis, direct or through Sentinel."""
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    # One immediate retry on a broken connection (a pooled connection to a Redis that has
    # restarted), none on a timeout (a frozen Redis must cost one timeout, not two).
    return {"decode_responses": True, "socket_timeout": timeout,
            "socket_connect_timeout": timeout,
            # redis-py retries timeouts too unless told which errors to retry
            "retry": Retry(NoBackoff(), 1, supported_errors=(redis.ConnectionError,)),
            "retry_on_error": [redis.ConnectionError], "retry_on_timeout": False}


SENTINEL_RECHECK = 1.0  # seconds: how often a worker asks the Sentinels where the master is


def _sentinel_client(url: str, timeout: float, recheck: float = SENTINEL_RECHECK) -> redis.Redis:
    """A client of the master that the Sentinels of a redis+sentinel:// URL name, with the
    timeouts and retries of a direct client (`_client_options`).

    redis-py asks the Sentinels for the master when the pool hands out a connection that is
    not open. A connection that breaks, or that the old master answers with READONLY once the
    Sentinels have made it a replica, is closed; redis-py's immediate retry reopens it to the
    same address (StoreUnavailable for that call), and the next call asks the Sentinels. That
    alone keeps pooled connections on the old master after a failover for as long as it still
    takes writes (after `SENTINEL FAILOVER`, until the Sentinels make it a replica: 10 to 20 s),
    and those writes are lost. So the pool also asks the Sentinels, at most every `recheck`
    seconds, when a connection is taken, and closes idle connections to a master they no
    longer name (connections in use are closed when returned). If no Sentinel answers, the
    pool keeps the connections it has."""
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry
    from redis.sentinel import Sentinel, SentinelConnectionPool

    class FollowingPool(SentinelConnectionPool):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._next_check = time.monotonic() + recheck  # connecting asks them anyway
            self._checking = threading.Lock()

        def get_connection(self, *args: Any, **kwargs: Any) -> Any:
            now = time.monotonic()
            if now >= self._next_check and self._checking.acquire(blocking=False):
                try:
                    self._next_check = now + recheck
                    self.get_master_address()  # drops idle connections if the master moved
                except (redis.RedisError, OSError):
                    pass  # no Sentinel answers: a master that is gone shows itself
                finally:
                    self._checking.release()
            return super().get_connection(*args, **kwargs)

    target = parse_sentinel_url(url)
    tls: dict[str, Any] = {"ssl": True, "ssl_ca_certs": target.ssl_ca_certs} if target.tls \
        else {}
    # redis-py gives each Sentinel client ten retries with backoff by default: one try each,
    # the next Sentinel is the retry.
    sentinel = Sentinel(list(target.sentinels), sentinel_kwargs={
        "socket_timeout": timeout, "socket_connect_timeout": timeout,
        "retry": Retry(NoBackoff(), 0), "username": target.sentinel_username,
        "password": target.sentinel_password, **tls})
    client: redis.Redis = sentinel.master_for(
        target.service, connection_pool_class=FollowingPool, db=target.db,
        username=target.username, password=target.password, **_client_options(timeout), **tls)
    return client


def create_store(redis_url: str, prefix: str = "idp:", timeout: float = 0.5) -> Store:
    if redis_url:
        return RedisStore(redis_url, prefix, timeout=timeout)
    return MemoryStore()
