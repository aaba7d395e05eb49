"""Benchmark unified-idp against panva/oidc-provider and print req/s, p50 and p99 per scenario."""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import ExitStack
from datetime import UTC, datetime
from functools import partial
from typing import Any

import loadgen
import machine
import targets

RESULTS = targets.BENCH / "results"
SCENARIOS = ("client_credentials", "authorization_code", "authorize", "refresh", "userinfo",
             "introspection")
LOGIN = "login"  # ours only: the peer's development login hashes no password
HOST = "127.0.0.1"
NOISY = 0.25  # cores of other work during a run that make it worth running again
Rates = dict[str, float] | None  # the half-rate pass: row -> units per second (open loop)


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--duration", type=float, default=10, help="seconds per timed run")
    p.add_argument("--warmup", type=float, default=5,
                   help="seconds of warm-up before each timed run (V8 needs a few thousand calls)")
    p.add_argument("--concurrency", type=int, default=16, help="requests kept in flight")
    p.add_argument("--targets", default="ours,peer", help="comma-separated: ours, peer")
    p.add_argument("--repeat", type=int, default=1,
                   help="runs per scenario and target; the median by req/s is reported")
    p.add_argument("--noisy-retries", type=int, default=2,
                   help="run again (up to N times) when other work used over 0.25 cores")
    p.add_argument("--no-half-rate", action="store_true",
                   help="skip the second pass that runs each scenario open loop at half its "
                        "maximum rate for the 'p99 @ half rate' column")
    p.add_argument("--seeded", action="store_true",
                   help="ours runs on a copy of the database bench/seed.py filled (a million "
                        "accounts and grants, five million refresh tokens) instead of an empty "
                        "one; results go to results/latest-seeded.json")
    p.add_argument("--seeded-database", default="idp_bench_seeded", metavar="NAME",
                   help="the seeded database to copy (default: idp_bench_seeded)")
    return p.parse_args()


def measured(target: targets.Target, run: Callable[[], loadgen.Stats]) -> dict[str, Any]:
    """Run once, adding the cores used meanwhile by the server, by PostgreSQL + Redis, and by
    anything else on the machine (`other_cpu`: kernel networking, or a stray process)."""
    watched = {"server": [target.pid], "pg_redis": machine.store_pids(targets.DATABASE)}
    before = {name: machine.cpu_seconds(pids) for name, pids in watched.items()}
    machine_before = machine.busy_cores()
    stats = run()
    result = stats.as_dict()
    for name, pids in watched.items():
        result[name + "_cpu"] = round((machine.cpu_seconds(pids) - before[name]) / stats.seconds,
                                      2)
    busy = machine.busy_share(machine_before, machine.busy_cores())
    result["other_cpu"] = round(max(0.0, busy - result["server_cpu"] - result["pg_redis_cpu"] -
                                    result["client_cpu"]), 2)
    return result


class Scenarios:
    """The scenarios against one target (`authorize` is measured while minting codes; `login`
    runs on ours only)."""

    def __init__(self, target: targets.Target, args: argparse.Namespace) -> None:
        self.t, self.args, self.c = target, args, args.concurrency
        self.client = target.client_headers()
        self.token_path = target.path("token")

    def steady(self, make: Callable[[], loadgen.Load], rate: float | None = None
               ) -> dict[str, Any]:
        """Warm up, then one timed run (`make` is called outside the timed window). With `rate`
        both run open loop at that rate (the half-rate pass); without, closed loop."""
        loadgen.run(HOST, self.t.port, make(), self.c, self.args.warmup, rate=rate)
        load = make()
        return measured(self.t, lambda: loadgen.run(HOST, self.t.port, load, self.c,
                                                    self.args.duration, rate=rate))

    # Each scenario takes `rates` (row -> units per second) in the half-rate pass, None before.
    def client_credentials(self, rates: Rates = None) -> dict[str, Any]:
        return self.steady(lambda: loadgen.Load("POST", self.token_path, self.client,
                                                "grant_type=client_credentials"),
                           _rate(rates, "client_credentials"))

    def userinfo(self, rates: Rates = None) -> dict[str, Any]:
        bearer = {"Authorization": "Bearer " + self.access_token()}
        return self.steady(lambda: loadgen.Load("GET", self.t.path("userinfo"), bearer),
                           _rate(rates, "userinfo"))

    def introspection(self, rates: Rates = None) -> dict[str, Any]:
        body = "token=" + self.access_token()
        return self.steady(lambda: loadgen.Load("POST", self.t.path("introspection"),
                                                self.client, body),
                           _rate(rates, "introspection"))

    def login(self, rates: Rates = None) -> dict[str, Any]:
        """Password logins (GET /login, POST /login): one unit is one whole login, so `rps` is
        logins per second and the latencies run from the GET's start to the POST's answer.
        Before the timed run, with the servers idle, argon2id's rate on CPU 0 is measured again:
        the limit the login rate is compared with."""
        if self.t.name != "ours":
            raise RuntimeError("the login scenario runs on ours only")
        rate = _rate(rates, LOGIN)
        limit = machine.argon2_cost() if rate is None else None
        loadgen.run(HOST, self.t.port, targets.LoginFlow(self.t), self.c, self.args.warmup,
                    rate=rate)
        flow = targets.LoginFlow(self.t)
        found = measured(self.t, lambda: loadgen.run(HOST, self.t.port, flow, self.c,
                                                    self.args.duration, rate=rate))
        # Completed logins (POST answered 303) per second; `requests` counts every POST answered.
        found.update(unit="logins", logins=flow.logins,
                     rps=round(flow.logins / found["seconds"], 1) if found["seconds"] else 0.0)
        if limit is not None:
            found["argon2"] = limit
            found["logins_per_argon2_hash"] = round(found["rps"] / limit["hashes_per_second"],
                                                    3)
        return found

    def access_token(self) -> str:
        """From a code flow with scope `openid profile` (the peer's is opaque, see README)."""
        return str(targets.tokens(self.t, 1, jwt=False, concurrency=1)[0]["access_token"])

    def refresh(self, rates: Rates = None) -> dict[str, Any]:
        def chain() -> loadgen.Load:  # two spare chains per connection, each from its own code
            found = targets.tokens(self.t, 2 * self.c, jwt=True, concurrency=self.c)
            return loadgen.RefreshChain(self.token_path, self.client,
                                        [t["refresh_token"] for t in found])
        return self.steady(chain, _rate(rates, "refresh"))

    def authorization_code(self, rates: Rates = None) -> dict[str, dict[str, Any]]:
        """Warm up on a small pool, size the timed pool from the warm-up rate, mint, exchange.

        Minting the timed pool is itself measured: that is the `authorize` row.
        """
        if rates is not None:
            return self.authorization_code_at(rates["authorize"], rates["authorization_code"])
        codes, _ = targets.mint_codes(self.t, 25 * self.c, jwt=True, concurrency=self.c)
        warm = loadgen.run(HOST, self.t.port, self.exchanges(codes), self.c, self.args.warmup)
        count = int(min(max(warm.rps * self.args.duration * 1.5, 200), 30000))
        minted: list[tuple[str, str]] = []

        def mint() -> loadgen.Stats:
            found, stats = targets.mint_codes(self.t, count, jwt=True, concurrency=self.c)
            minted.extend(found)
            return stats

        authorize = measured(self.t, mint)
        pool = self.exchanges(minted)
        exchange = measured(self.t, lambda: loadgen.run(HOST, self.t.port, pool, self.c,
                                                        self.args.duration))
        return {"authorize": authorize, "authorization_code": exchange}

    def authorization_code_at(self, authorize_rate: float,
                              exchange_rate: float) -> dict[str, dict[str, Any]]:
        """The half-rate pass of the pair: warm up exchanging fresh codes at `exchange_rate`,
        mint for `--duration` at `authorize_rate` (the `authorize` row), top the codes up
        (untimed) if that minted fewer than the exchange needs, then exchange them, oldest
        first, at `exchange_rate` (the `authorization_code` row). Every code is at most about
        two durations old when it is exchanged (codes live 60 s)."""
        duration, warmup = self.args.duration, self.args.warmup
        codes, _ = targets.mint_codes(self.t, int(exchange_rate * warmup) + self.c, jwt=True,
                                      concurrency=self.c)
        loadgen.run(HOST, self.t.port, self.exchanges(codes), self.c, warmup, rate=exchange_rate)
        minted: list[tuple[str, str]] = []

        def mint() -> loadgen.Stats:
            found, stats = targets.mint_codes(self.t, int(authorize_rate * duration) + self.c,
                                              jwt=True, concurrency=self.c, seconds=duration,
                                              rate=authorize_rate)
            minted.extend(found)
            return stats

        authorize = measured(self.t, mint)
        if not minted:
            raise RuntimeError("no code was minted at half rate")
        short = int(exchange_rate * duration) + self.c - len(minted)
        if short > 0:
            minted.extend(targets.mint_codes(self.t, short, jwt=True, concurrency=self.c)[0])
        pool = self.exchanges(minted)
        exchange = measured(self.t, lambda: loadgen.run(HOST, self.t.port, pool, self.c,
                                                        duration, rate=exchange_rate))
        return {"authorize": authorize, "authorization_code": exchange}

    def exchanges(self, codes: list[tuple[str, str]]) -> loadgen.Pool:
        return loadgen.Pool("POST", self.client, targets.exchange_requests(self.t, codes))

    def run(self, rows: tuple[str, ...], rates: Rates = None) -> dict[str, dict[str, Any]]:
        """One step (`rows` names what it measures), reported as not measured if it fails; with
        `rates`, open loop at those rates (the half-rate pass)."""
        try:
            found = getattr(self, rows[-1])(rates)
            found = found if len(rows) > 1 else {rows[0]: found}
        except Exception as exc:  # noqa: BLE001 - report the scenario as not measured
            found = {row: {"not_measured": f"{type(exc).__name__}: {exc}"} for row in rows}
        for row in rows:
            label = f"{row} @ half" if rates else row
            print(f"  [{self.t.name}] {label:<19} {_summary(found[row])}", flush=True)
        time.sleep(1)  # let the server drain requests abandoned at the deadline
        return found


def _rate(rates: Rates, row: str) -> float | None:
    return rates[row] if rates is not None else None


STEPS: tuple[tuple[str, ...], ...] = (
    ("client_credentials",), ("userinfo",), ("introspection",), ("refresh",),
    ("authorize", "authorization_code"), (LOGIN,))


def runs_on(rows: tuple[str, ...], name: str) -> bool:
    return rows != (LOGIN,) or name == "ours"


def quiet_run(bench: Scenarios, rows: tuple[str, ...], retries: int,
              rates: Rates = None) -> dict[str, dict[str, Any]]:
    """Run a step once the machine is quiet; if other work still intruded, run it again and keep
    the attempt that was disturbed least."""
    attempts: list[dict[str, dict[str, Any]]] = []
    while len(attempts) <= retries:
        machine.wait_quiet(60)
        attempts.append(bench.run(rows, rates))
        if _noise(attempts[-1]) <= NOISY:
            break
        if len(attempts) <= retries:
            print(f"  [{bench.t.name}] other work used over {NOISY} cores: running it again")
    best = min(attempts, key=_noise)
    return {row: {**r, "attempts": len(attempts)} for row, r in best.items()}


def _noise(found: dict[str, dict[str, Any]]) -> float:
    return max(float(r.get("other_cpu", 0)) for r in found.values())


def median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run with the median req/s, keeping every run's req/s for the record."""
    measured_runs = sorted((r for r in runs if "not_measured" not in r), key=lambda r: r["rps"])
    if not measured_runs:
        return runs[0]
    return {**measured_runs[(len(measured_runs) - 1) // 2],
            "rps_of_each_run": [r["rps"] for r in runs if "not_measured" not in r]}


def _summary(r: dict[str, Any]) -> str:
    if "not_measured" in r:
        return "not measured: " + r["not_measured"]
    unit = r.get("unit", "req")
    count = f"{r['logins']} {unit}" if "logins" in r else str(r["requests"])
    if "http_requests" in r:
        count += f", {r['http_requests']} requests"
    offered = (f"; offered {r['rate']:.1f}/s, latest start {r['late_ms']:.1f} ms after its slot"
               if "rate" in r else "")
    argon2 = (f"; argon2id alone {r['argon2']['hashes_per_second']:.1f}/s on CPU 0, logins/s "
              f"÷ that {r['logins_per_argon2_hash']:.2f}" if "argon2" in r else "")
    return (f"{r['rps']:8.1f} {unit}/s  p50 {r['p50_ms']:7.2f} ms  p99 {r['p99_ms']:7.2f} ms  "
            f"errors {r['errors']}  ({count} in {r['seconds']} s{offered}; CPU server "
            f"{r['server_cpu']:.0%}, pg+redis {r['pg_redis_cpu']:.0%}, load generator "
            f"{r['client_cpu']:.0%}, other {r['other_cpu']:.0%}{argon2})")


def _render(rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [" | ".join(cell.ljust(w) if i == 0 else cell.rjust(w)
                        for i, (cell, w) in enumerate(zip(row, widths, strict=True)))
             for row in rows]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    return "\n".join(lines)


def _ok(r: dict[str, Any] | None) -> dict[str, Any] | None:
    return r if r and "not_measured" not in r else None


Results = dict[str, dict[str, dict[str, Any]]]


def _half_p99(half: Results | None, side: str, name: str) -> list[str]:
    """The 'p99 @ half rate' cell (none when the half-rate pass did not run)."""
    if half is None:
        return []
    r = half.get(side, {}).get(name)
    if not _ok(r) or not r or not r["requests"]:
        return ["not measured" if r else ""]
    return [f"{r['p99_ms']:.2f}" + (f" ({r['errors']} err)" if r["errors"] else "")]


def table(results: Results, half: Results | None = None) -> str:
    """Throughput and latency, ours next to the peer; with `half`, the p99 at half the maximum
    rate (open loop) beside each side's p99."""
    halves = ["p99 @ half rate"] if half is not None else []
    rows = [["scenario", "ours req/s", "p50 ms", "p99 ms", *halves, "err", "peer req/s",
             "p50 ms", "p99 ms", *halves, "err", "ours/peer"]]
    for name in SCENARIOS:
        ours, peer = (_ok(results.get(side, {}).get(name)) for side in ("ours", "peer"))
        row = [name]
        for side, r in (("ours", ours), ("peer", peer)):
            missing = "not measured" if side in results else "-"
            row += ([f"{r['rps']:.1f}", f"{r['p50_ms']:.2f}", f"{r['p99_ms']:.2f}"] if r
                    else [missing, "", ""])
            row += _half_p99(half, side, name) if r else [""] * len(halves)
            row.append(str(r["errors"]) if r else "")
        row.append(f"{ours['rps'] / peer['rps']:.2f}" if ours and peer and peer["rps"] else "")
        rows.append(row)
    return _render(rows)


def login_table(results: Results, half: Results | None = None) -> str:
    """Ours' password logins next to the argon2id limit of its core (measured just before)."""
    halves = ["p99 @ half rate"] if half is not None else []
    rows = [["login vs argon2 limit", "ours logins/s", "p50 ms", "p99 ms", *halves, "err",
             "argon2 hashes/s", "logins/s ÷ hashes/s"]]
    r = results.get("ours", {}).get(LOGIN)
    if _ok(r):
        assert r is not None
        rows.append([LOGIN, f"{r['rps']:.1f}", f"{r['p50_ms']:.2f}", f"{r['p99_ms']:.2f}",
                     *_half_p99(half, "ours", LOGIN), str(r["errors"]),
                     f"{r['argon2']['hashes_per_second']:.1f}",
                     f"{r['logins_per_argon2_hash']:.2f}"])
    else:
        rows.append([LOGIN, "not measured" if r else "-", "", "", *[""] * len(halves), "", "",
                     ""])
    return _render(rows)


def cpu_table(results: dict[str, dict[str, dict[str, Any]]]) -> str:
    """Cores used during each timed run: is the server the bottleneck, and was the box quiet?"""
    rows = [["cores used", "ours server", "pg+redis", "generator", "other", "peer server",
             "generator", "other"]]
    for name in (*SCENARIOS, LOGIN):
        row = [name]
        for side, keys in (("ours", ("server", "pg_redis", "client", "other")),
                           ("peer", ("server", "client", "other"))):
            r = _ok(results.get(side, {}).get(name))
            row += [f"{r[k + '_cpu']:.2f}" if r else "" for k in keys]
        rows.append(row)
    return _render(rows)


def growth_table(empty: dict[str, dict[str, Any]], seeded: dict[str, dict[str, Any]]) -> str:
    """Ours with no data next to ours with the seeded data: does any scenario slow down?"""
    rows = [["scenario", "empty req/s", "p50 ms", "p99 ms", "seeded req/s", "p50 ms", "p99 ms",
             "seeded/empty"]]
    for name in (*SCENARIOS, LOGIN):  # login: logins/s
        before, after = _ok(empty.get(name)), _ok(seeded.get(name))
        row = [name]
        for r in (before, after):
            row += ([f"{r['rps']:.1f}", f"{r['p50_ms']:.2f}", f"{r['p99_ms']:.2f}"] if r
                    else ["-", "", ""])
        row.append(f"{after['rps'] / before['rps']:.2f}" if before and after and before["rps"]
                   else "")
        rows.append(row)
    return _render(rows)


def half_rate(benches: dict[str, Scenarios], results: Results,
              args: argparse.Namespace) -> Results:
    """Each step once more, open loop at half the reported (median) rate of each of its rows,
    for `--duration` seconds, on fresh single-use inputs."""
    print("\nhalf rate (open loop; latency from each request's scheduled start):", flush=True)
    half: Results = {}
    for rows in STEPS:
        for name, bench in benches.items():
            if not runs_on(rows, name):
                continue
            maxima = [_ok(results.get(name, {}).get(row)) for row in rows]
            if not all(r and r["rps"] > 0 for r in maxima):
                for row in rows:
                    half.setdefault(name, {})[row] = {"not_measured": "no maximum rate"}
                continue
            rates = {row: r["rps"] / 2 for row, r in zip(rows, maxima, strict=True) if r}
            for row, result in quiet_run(bench, rows, args.noisy_retries, rates).items():
                half.setdefault(name, {})[row] = result
    return half


def main() -> int:
    args = parse_args()
    try:
        seeded = targets.seed_info(args.seeded_database) if args.seeded else None
    except RuntimeError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # unwind, so the servers stop
    os.sched_setaffinity(0, {1})  # the load generator (this process) owns CPU 1
    RESULTS.mkdir(exist_ok=True)
    info = machine.describe()
    info["background_cores_busy"] = round(machine.background_load(), 2)
    rsa = machine.rsa_sign_us()
    argon2 = machine.argon2_cost()  # before the servers start: CPU 0 is idle
    peer_pkg = targets.PEER_DIR / "node_modules" / "oidc-provider" / "package.json"
    commit = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=targets.ROOT,
                            capture_output=True, text=True).stdout.strip()
    print(f"machine: {info['nproc']} CPUs, {info['cpu_model']}, Linux {info['kernel']}, "
          f"Python {info['python']}, node {info['node']}")
    if info["background_cores_busy"] > 0.1:
        print(f"WARNING: {info['background_cores_busy']:.2f} cores were busy before the bench "
              "started; other work on this machine will distort the numbers")
    print(f"one RSA-2048 signature: joserfc {rsa['joserfc_jwt_encode_us']} us (a whole RS256 "
          f"JWT), cryptography {rsa['cryptography_sign_us']} us, node:crypto "
          f"{rsa['node_crypto_sign_us']} us (bare signatures)")
    print(f"argon2id alone on CPU 0 (m={argon2['memory_kib']} KiB, t={argon2['time_cost']}, "
          f"p={argon2['parallelism']}, as ours hashes): {argon2['hashes_per_second']:.1f} "
          f"hashes/s ({argon2['ms_per_hash']:.1f} ms each); the login scenario measures it "
          "again just before it runs")
    print(f"load: {args.concurrency} in flight, {args.warmup} s warm-up + {args.duration} s "
          f"per scenario, {args.repeat} run(s) each; servers on CPU 0, this generator on CPU 1"
          + ("" if args.no_half_rate else "; then each scenario once more, open loop at half "
             "its maximum rate"), flush=True)
    if seeded is not None:
        rows = seeded.get("rows", {})
        print(f"data: ours on a copy of {args.seeded_database} ({seeded['accounts']:,} accounts, "
              f"{seeded['grants']:,} grants, {seeded['refresh_tokens']:,} refresh tokens, "
              f"{rows.get('token_issued', 0):,} token records, {rows.get('audit_event', 0):,} "
              f"audit events; {seeded.get('size')}, seeded {seeded.get('seeded_at')})",
              flush=True)
    ours = partial(targets.ours, seeded=args.seeded_database if args.seeded else None)
    runs: dict[str, dict[str, list[dict[str, Any]]]] = {}
    with ExitStack() as servers:  # both up at once, so each scenario runs back to back on both
        benches = {}
        for name, start in (("ours", ours), ("peer", targets.peer)):
            if name in args.targets.split(","):
                target = servers.enter_context(start(RESULTS / f"{name}-server.log"))
                print(f"{name}: serving on {target.base} (pid {target.pid})", flush=True)
                benches[name] = Scenarios(target, args)
        for rows in STEPS:
            for rep in range(args.repeat):  # alternate who goes first
                for name in (list(benches) if rep % 2 == 0 else list(reversed(benches))):
                    if not runs_on(rows, name):
                        continue
                    for row, result in quiet_run(benches[name], rows, args.noisy_retries).items():
                        runs.setdefault(name, {}).setdefault(row, []).append(result)
        results = {name: {row: median_run(found) for row, found in rows.items()}
                   for name, rows in runs.items()}
        half = None if args.no_half_rate else half_rate(benches, results, args)
    print()
    print(table(results, half))
    if "ours" in results:
        print()
        print(login_table(results, half))
        print(f"(argon2 hashes/s: argon2id alone on CPU 0 just before the login run; at the "
              f"start it was {argon2['hashes_per_second']:.1f}/s)")
    if half is not None:
        print("(p99 @ half rate: each scenario once more for the same duration, open loop at "
              "half its reported req/s (login: logins/s), latency from each request's scheduled "
              "start)")
    print()
    print(cpu_table(results))
    print("(other = busy cores not used by the server, its stores or the generator: kernel "
          "networking, or other work on the machine; much above 0.1 means noisy numbers)")
    out = {"date": datetime.now(UTC).isoformat(timespec="seconds"),
           "command": " ".join([os.path.relpath(sys.executable, targets.ROOT), *sys.argv]),
           "commit": commit,
           "machine": info, "rsa_sign_us": rsa, "argon2": argon2, "config": vars(args),
           "oidc_provider": json.loads(peer_pkg.read_text())["version"]
           if peer_pkg.exists() else None,
           **({"seeded": seeded} if seeded else {}),
           "results": results,
           **({"half_rate": half} if half is not None else {})}
    written = RESULTS / ("latest-seeded.json" if args.seeded else "latest.json")
    written.write_text(json.dumps(out, indent=2) + "\n")
    if seeded and (RESULTS / "latest.json").exists():
        empty = json.loads((RESULTS / "latest.json").read_text())
        print("\nours on an empty database (latest.json, "
              f"{empty.get('date')}) and on the seeded one (this run):\n")
        print(growth_table(empty.get("results", {}).get("ours", {}), results.get("ours", {})))
    print(f"\nwritten: {written}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
