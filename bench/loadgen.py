"""Closed-loop HTTP/1.1 load generator on asyncio streams: fixed concurrency, bounded time."""

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
    requests: int
    errors: int
    seconds: float
    p50_ms: float
    p99_ms: float
    client_cpu: float  # share of one core the generator used
    ran_dry: bool

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {"rps": round(self.rps, 1), "p50_ms": round(self.p50_ms, 2),
                "p99_ms": round(self.p99_ms, 2), "requests": self.requests,
                "errors": self.errors, "seconds": round(self.seconds, 2),
                "client_cpu": round(self.client_cpu, 2), "ran_dry": self.ran_dry}


def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))]


class _Run:
    def __init__(self, host: str, port: int, load: Load) -> None:
        self.host, self.port, self.load = host, port, load
        fixed = {"Host": f"{host}:{port}", **load.headers}
        self.head = "".join(f"{k}: {v}\r\n" for k, v in fixed.items())
        self.latencies: list[float] = []
        self.errors = 0
        self.ran_dry = False

    def encode(self, request: Request) -> bytes:
        body = request.body.encode()
        length = f"Content-Length: {len(body)}\r\n" if body or self.load.method == "POST" else ""
        return (f"{self.load.method} {request.path} HTTP/1.1\r\n{self.head}{length}\r\n"
                .encode() + body)

    async def worker(self, deadline: float) -> None:
        streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        while time.monotonic() < deadline:
            request = self.load.next()
            if request is None:
                self.ran_dry = True
                break
            started = time.perf_counter()
            try:
                if streams is None:
                    streams = await asyncio.open_connection(self.host, self.port)
                status, head, body, keep = await asyncio.wait_for(
                    _exchange(*streams, self.encode(request)), REQUEST_TIMEOUT)
            except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError,
                    TimeoutError, ValueError):
                self.errors += 1
                streams = _close(streams)
                continue
            self.latencies.append(time.perf_counter() - started)
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


def run(host: str, port: int, load: Load, concurrency: int, seconds: float) -> Stats:
    """Keep `concurrency` requests in flight for `seconds` (or until the load runs dry)."""
    state = _Run(host, port, load)

    async def main() -> None:
        deadline = time.monotonic() + seconds
        await asyncio.gather(*(state.worker(deadline) for _ in range(concurrency)))

    cpu_before = _cpu_seconds()
    started = time.perf_counter()
    asyncio.run(main())
    elapsed = time.perf_counter() - started
    latencies = sorted(state.latencies)
    return Stats(requests=len(latencies), errors=state.errors, seconds=elapsed,
                 p50_ms=percentile(latencies, 0.50) * 1000,
                 p99_ms=percentile(latencies, 0.99) * 1000,
                 client_cpu=(_cpu_seconds() - cpu_before) / elapsed, ran_dry=state.ran_dry)


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime
