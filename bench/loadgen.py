"""HTTP/1.1 load generator on asyncio streams: a fixed number of connections, bounded time.

Closed loop by default (each connection sends its next request as soon as the last one was
answered); with `rate`, open loop (requests start on a fixed schedule, and latency is measured
from the scheduled start, so a server that falls behind cannot hide it).
"""

from __future__ import annotations

import asyncio
import json
import resource
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

REQUEST_TIMEOUT = 30.0  # seconds; a slower answer counts as an error


@dataclass
class Request:
    path: str
    body: str = ""
    tag: Any = None  # handed back to Load.seen with the response
    method: str | None = None  # None: the Load's method
    headers: dict[str, str] | None = None  # added to the Load's headers (a name here wins)
    # When the unit of work this request belongs to began (time.perf_counter()). None: the
    # request begins a unit, and the generator sets it on the copy it hands to Load.seen (when
    # it sent the request, or its scheduled slot with `rate`). A follow-up request of a flow
    # carries its first request's origin: it is sent at once (it takes no slot of the schedule)
    # and its latency runs from that origin.
    origin: float | None = None
    final: bool = True  # its answer completes the unit: counted, and its latency recorded


class Load:
    """The same request, over and over. Subclasses hand out different requests and read answers."""

    def __init__(self, method: str, path: str, headers: dict[str, str], body: str = "") -> None:
        self.method = method
        self.headers = headers
        self._request = Request(path, body)

    def next(self) -> Request | None:
        """The next request to send, or None when there is nothing left to send."""
        return self._request

    def seen(self, request: Request, status: int, head: bytes, body: bytes) -> bool:
        """Look at an answer; return whether it counts as a success."""
        return status == 200


class Pool(Load):
    """Each request is sent once (single-use codes); the run ends early if the pool runs dry."""

    def __init__(self, method: str, headers: dict[str, str], requests: Iterable[Request]) -> None:
        super().__init__(method, "/", headers)
        self._queue = deque(requests)

    def next(self) -> Request | None:
        return self._queue.popleft() if self._queue else None


class RefreshChain(Load):
    """POST refresh_token grants; each answer's new refresh token replaces the spent one."""

    def __init__(self, path: str, headers: dict[str, str], tokens: Iterable[str]) -> None:
        super().__init__("POST", path, headers)
        self._path = path
        self._tokens = deque(tokens)

    def next(self) -> Request | None:
        if not self._tokens:
            return None
        return Request(self._path, "grant_type=refresh_token&refresh_token=" +
                       self._tokens.popleft())

    def seen(self, request: Request, status: int, head: bytes, body: bytes) -> bool:
        if status != 200:
            return False  # the chain is lost; the spare tokens keep the others going
        try:
            self._tokens.append(json.loads(body)["refresh_token"])
        except (ValueError, KeyError):
            return False
        return True


@dataclass
class Stats:
    requests: int  # units completed (a unit is one request unless a Load chains follow-ups)
    errors: int
    seconds: float
    p50_ms: float
    p99_ms: float
    client_cpu: float  # share of one core the generator used
    ran_dry: bool
    http_requests: int = 0  # every request answered, follow-ups included
    rate: float | None = None  # the open-loop schedule (units per second); None: closed loop
    late_ms: float = 0.0  # open loop: the largest delay between a slot and its request's start

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def as_dict(self) -> dict[str, Any]:
        found = {"rps": round(self.rps, 1), "p50_ms": round(self.p50_ms, 2),
                 "p99_ms": round(self.p99_ms, 2), "requests": self.requests,
                 "errors": self.errors, "seconds": round(self.seconds, 2),
                 "client_cpu": round(self.client_cpu, 2), "ran_dry": self.ran_dry}
        if self.http_requests != self.requests:
            found["http_requests"] = self.http_requests
        if self.rate is not None:
            found["rate"] = round(self.rate, 1)
            found["late_ms"] = round(self.late_ms, 2)
        return found


def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))]


class _Run:
    def __init__(self, host: str, port: int, load: Load, rate: float | None = None) -> None:
        self.host, self.port, self.load = host, port, load
        self.fixed = {"Host": f"{host}:{port}", **load.headers}
        self.head = "".join(f"{k}: {v}\r\n" for k, v in self.fixed.items())
        self.latencies: list[float] = []
        self.answered = 0
        self.errors = 0
        self.ran_dry = False
        # Open loop: slot k starts at start + k / rate, shared by all connections.
        self.interval = 1.0 / rate if rate else 0.0
        self.start = 0.0
        self.next_slot = 0
        self.late = 0.0

    def encode(self, request: Request) -> bytes:
        body = request.body.encode()
        method = request.method or self.load.method
        head = self.head if request.headers is None else "".join(
            f"{k}: {v}\r\n" for k, v in {**self.fixed, **request.headers}.items())
        length = f"Content-Length: {len(body)}\r\n" if body or method == "POST" else ""
        return f"{method} {request.path} HTTP/1.1\r\n{head}{length}\r\n".encode() + body

    async def origin(self, deadline: float) -> float | None:
        """When a new unit starts: now (closed loop), or the next free slot of the schedule,
        waited for if it is still ahead (open loop); None once the slots reach the deadline."""
        if not self.interval:
            return time.perf_counter()
        slot = self.start + self.next_slot * self.interval
        if slot >= deadline:
            return None
        self.next_slot += 1
        now = time.perf_counter()
        if slot > now:
            await asyncio.sleep(slot - now)
        self.late = max(self.late, time.perf_counter() - slot)
        return slot

    async def worker(self, deadline: float) -> None:
        streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        while True:
            now = time.perf_counter()
            request = self.load.next()
            if request is None:
                self.ran_dry = now < deadline
                break
            origin = request.origin
            if origin is None:  # a new unit: not after the deadline, and on schedule
                origin = await self.origin(deadline) if now < deadline else None
                if origin is None:
                    break
                request = Request(request.path, request.body, request.tag, request.method,
                                  request.headers, origin, request.final)
            try:  # a follow-up goes at once, even past the deadline: its unit began before
                if streams is None:
                    streams = await asyncio.open_connection(self.host, self.port)
                status, head, body, keep = await asyncio.wait_for(
                    _exchange(*streams, self.encode(request)), REQUEST_TIMEOUT)
            except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError,
                    TimeoutError, ValueError):
                self.errors += 1
                streams = _close(streams)
                continue
            self.answered += 1
            if request.final:
                self.latencies.append(time.perf_counter() - origin)
            if not self.load.seen(request, status, head, body):
                self.errors += 1
            if not keep:
                streams = _close(streams)
        _close(streams)


def _close(streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None) -> None:
    if streams is not None:
        streams[1].close()


async def _exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                    data: bytes) -> tuple[int, bytes, bytes, bool]:
    writer.write(data)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length, chunked, keep = 0, False, not head.startswith(b"HTTP/1.0")
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        name, value = name.strip().lower(), value.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding":
            chunked = b"chunked" in value
        elif name == b"connection":
            keep = value == b"keep-alive" or (keep and value != b"close")
    if not chunked:
        return status, head, await reader.readexactly(length), keep
    parts = []
    while size := int((await reader.readuntil(b"\r\n")).split(b";")[0], 16):
        parts.append((await reader.readexactly(size + 2))[:-2])
    await reader.readuntil(b"\r\n")
    return status, head, b"".join(parts), keep


def run(host: str, port: int, load: Load, concurrency: int, seconds: float,
        rate: float | None = None) -> Stats:
    """Keep `concurrency` requests in flight for `seconds` (or until the load runs dry).

    With `rate` (units per second), open loop: unit k is due at start + k / rate; a free
    connection takes the next due slot, waiting for it if it lies ahead, and a unit's latency
    runs from its slot, so time spent waiting for a free connection counts (no coordinated
    omission). At most `concurrency` requests are in flight either way.
    """
    state = _Run(host, port, load, rate)

    async def main() -> None:
        state.start = time.perf_counter()
        deadline = state.start + seconds
        await asyncio.gather(*(state.worker(deadline) for _ in range(concurrency)))

    cpu_before = _cpu_seconds()
    started = time.perf_counter()
    asyncio.run(main())
    elapsed = time.perf_counter() - started
    latencies = sorted(state.latencies)
    return Stats(requests=len(latencies), errors=state.errors, seconds=elapsed,
                 p50_ms=percentile(latencies, 0.50) * 1000,
                 p99_ms=percentile(latencies, 0.99) * 1000,
                 client_cpu=(_cpu_seconds() - cpu_before) / elapsed, ran_dry=state.ran_dry,
                 http_requests=state.answered, rate=rate, late_ms=state.late * 1000)


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime
