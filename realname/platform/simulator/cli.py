"""Running the simulator from a terminal: `serve()` for `idp realname simulator`, `main(argv)`."""

from __future__ import annotations

import argparse
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from realname.platform.adapter import REAL_PERSON_PATH, TWO_ELEMENT_PATH
from realname.platform.simulator.service import DEFAULT_APP_ID, DEFAULT_SECRET, PlatformSimulator


def serve(host: str = "127.0.0.1", port: int = 5003, app_id: str = DEFAULT_APP_ID,
          app_secret: str = DEFAULT_SECRET, *, seed: int = 0, people: int = 20,
          latency_ms: int | tuple[int, int] = (30, 120),
          population_file: str | Path | None = None, out: TextIO | None = None,
          until: threading.Event | None = None) -> None:
    """Run a simulator until interrupted (or until `until` is set), printing how to use it."""
    out = out or sys.stdout
    simulator = PlatformSimulator(app_id, app_secret, seed=seed, people=people,
                                  latency_ms=latency_ms, population_file=population_file,
                                  host=host, port=port)
    url = simulator.start()
    try:
        print(f"CTID platform simulator on {url} (app id {app_id!r})", file=out)
        print(f"  verify: POST {url}{TWO_ELEMENT_PATH}, {url}{REAL_PERSON_PATH}", file=out)
        print("  Sample people (synthetic, not real persons):", file=out)
        for person in simulator.population()[:5]:
            print(f"    {person.name}  {person.id_number}  portrait: "
                  f"{url}/_sim/portrait?id_number={person.id_number}", file=out)
        print("  Faults: POST /_sim/outage, /_sim/rate-limit, /_sim/tamper, /_sim/reset; "
              "GET /_sim/transactions. Ctrl-C stops.", file=out, flush=True)
        (until or threading.Event()).wait()
    except KeyboardInterrupt:
        pass
    finally:
        simulator.stop()


def _latency(value: str) -> int | tuple[int, int]:
    low, _, high = value.partition("-")
    return (int(low), int(high)) if high else int(low)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="ctid-simulator", description="Run the national identity platform simulator.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5003)
    parser.add_argument("--app-id", default=DEFAULT_APP_ID)
    parser.add_argument("--app-secret", default=DEFAULT_SECRET)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--people", type=int, default=20, help="synthetic people to generate")
    parser.add_argument("--latency-ms", type=_latency, default=(30, 120),
                        help="answer delay in ms: N or LOW-HIGH (default 30-120)")
    parser.add_argument("--population-file", help="JSON list of {name, id_number} to add")
    args = parser.parse_args(argv)
    serve(args.host, args.port, args.app_id, args.app_secret, seed=args.seed,
          people=args.people, latency_ms=args.latency_ms, population_file=args.population_file)
    return 0
