"""Real-name checks: document checks per second (realname.documents.check, in process) and the
national platform's round trip through the signed HTTP adapter against the simulator, with the
simulator's latency off and at its default (30-120 ms). Prints numbers; asserts nothing.

    .venv/bin/python bench/realname.py [--checks 20000] [--calls 200]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from realname.documents import check  # noqa: E402
from realname.platform import HttpPlatform  # noqa: E402
from realname.platform.simulator import PlatformSimulator  # noqa: E402

SAMPLES = [("id-number", "11010519491231002X"), ("id-number", "110105491231002"),
           ("credit-code", "91350100M000100Y43"), ("hk-macau-travel-permit", "H12345678"),
           ("passport", "E12345678"), ("id-number", "110105194912310021")]


def documents(n: int) -> None:
    check("id-number", SAMPLES[0][1])  # load the division data once, outside the timing
    started = time.perf_counter()
    for i in range(n):
        kind, number = SAMPLES[i % len(SAMPLES)]
        check(kind, number)
    elapsed = time.perf_counter() - started
    print(f"document checks: {n / elapsed:,.0f} per second "
          f"({elapsed / n * 1e6:.1f} µs each, mixed types, one core)")


def platform(calls: int, latency: int | tuple[int, int], label: str) -> None:
    with PlatformSimulator("bench", "b" * 40, seed=1, people=5, latency_ms=latency) as sim:
        person = sim.population()[0]
        with HttpPlatform(sim.url, "bench", "b" * 40) as adapter:
            adapter.check_name_and_number(person.name, person.id_number)  # connection warm
            times = []
            for _ in range(calls):
                started = time.perf_counter()
                result = adapter.check_name_and_number(person.name, person.id_number)
                times.append((time.perf_counter() - started) * 1000)
                assert result.matched, result
    times.sort()
    p95 = times[int(len(times) * 0.95) - 1]
    print(f"two-element check via the HTTP adapter, simulator latency {label}: "
          f"p50 {statistics.median(times):.1f} ms, p95 {p95:.1f} ms ({calls} calls)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checks", type=int, default=20000)
    parser.add_argument("--calls", type=int, default=200)
    args = parser.parse_args()
    documents(args.checks)
    platform(args.calls, 0, "off")
    platform(max(20, args.calls // 4), (30, 120), "30-120 ms")


if __name__ == "__main__":
    main()
