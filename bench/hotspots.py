"""Profile unified-idp under load: py-spy samples the serving worker while the bench's load
generator drives one scenario, and the top frames (self and inclusive) are printed.

    .venv/bin/pip install '.[bench]'        # py-spy; not needed to run or test the provider
    .venv/bin/python bench/hotspots.py --seconds 15 client_credentials userinfo

Uses the bench's own target (`targets.ours`: fresh idp_bench database, Redis DB 14, `idp serve`
on CPU 0, this process on CPU 1). Raw stacks are kept in bench/results/profile-<scenario>.txt.
Not named profile.py: bench/ is first on its scripts' path, and that name would shadow the
standard library's `profile`, which `cProfile` imports.
"""

from __future__ import annotations

import argparse
import collections
import os
import shutil
import subprocess
import sys

import loadgen
import machine
import targets

SCENARIOS = ("client_credentials", "authorization_code", "authorize", "refresh", "userinfo",
             "introspection", "login")


def load_for(target: targets.Target, scenario: str, seconds: float) -> loadgen.Load:
    c = 16
    if scenario == "client_credentials":
        return loadgen.Load("POST", target.path("token"), target.client_headers(),
                            "grant_type=client_credentials")
    if scenario in ("userinfo", "introspection"):
        token = targets.tokens(target, 1, jwt=True, concurrency=1)[0]["access_token"]
        if scenario == "userinfo":
            return loadgen.Load("GET", target.path("userinfo"),
                                {"Authorization": "Bearer " + token})
        return loadgen.Load("POST", target.path("introspection"), target.client_headers(),
                            "token=" + token)
    if scenario == "refresh":
        found = targets.tokens(target, 2 * c, jwt=True, concurrency=c)
        return loadgen.RefreshChain(target.path("token"), target.client_headers(),
                                    [t["refresh_token"] for t in found])
    if scenario == "authorize":
        return targets.CodeMint(target, int(2000 * seconds), jwt=True)
    if scenario == "authorization_code":
        codes, _ = targets.mint_codes(target, int(400 * seconds), jwt=True, concurrency=c)
        return loadgen.Pool("POST", target.client_headers(),
                            targets.exchange_requests(target, codes))
    if scenario == "login":
        return targets.LoginFlow(target)
    raise SystemExit(f"unknown scenario {scenario}")


def summarize(raw: str, top: int) -> str:
    """py-spy's raw format: `frame;frame;... count` per line, outermost first."""
    own: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        frames = [_short(f) for f in stack.split(";")]
        own[frames[-1]] += count
        for frame in set(frames):
            inclusive[frame] += count
    out = [f"{total} samples", "", "self:"]
    out += [f"  {100 * n / total:5.1f}%  {f}" for f, n in own.most_common(top)]
    out += ["", "inclusive (frames in idp/, authlib, flask, sqlalchemy, joserfc, gunicorn):"]
    keep = ("idp/", "authlib/", "flask/", "sqlalchemy/", "joserfc/", "gunicorn/", "werkzeug/",
            "redis/", "psycopg/", "granian")
    interesting = [(f, n) for f, n in inclusive.most_common() if any(k in f for k in keep)]
    out += [f"  {100 * n / total:5.1f}%  {f}" for f, n in interesting[:top]]
    return "\n".join(out)


def _short(frame: str) -> str:
    """`func (path/to/site-packages/pkg/mod.py:12)` → `func (pkg/mod.py)`."""
    name, _, where = frame.partition(" (")
    where = where.rstrip(")").rsplit(":", 1)[0]
    for marker in ("site-packages/", str(targets.ROOT) + "/"):
        if marker in where:
            where = where.split(marker, 1)[1]
    return f"{name} ({where})"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("scenarios", nargs="*", default=list(SCENARIOS[:-1]))
    p.add_argument("--seconds", type=float, default=15)
    p.add_argument("--top", type=int, default=25)
    p.add_argument("--rate", type=int, default=250,
                   help="py-spy samples per second (0: no profiler, throughput only)")
    args = p.parse_args()
    spy = shutil.which("py-spy") or os.path.join(os.path.dirname(sys.executable), "py-spy")
    if not os.path.exists(spy):
        raise SystemExit("py-spy is not installed: .venv/bin/pip install py-spy")
    os.sched_setaffinity(0, {1})
    out_dir = targets.BENCH / "results"
    out_dir.mkdir(exist_ok=True)
    with targets.ours(out_dir / "profile-server.log") as target:
        for scenario in args.scenarios:
            load = load_for(target, scenario, args.seconds)
            raw_path = out_dir / f"profile-{scenario}.txt"
            spy_proc = None if args.rate == 0 else subprocess.Popen(
                [spy, "record", "--pid", str(target.pid), "--duration", str(int(args.seconds)),
                 "--rate", str(args.rate), "--format", "raw", "--output", str(raw_path),
                 # only the thread holding the GIL: where the CPU goes, not where threads wait
                 "--gil"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            cpu_before = machine.cpu_seconds([target.pid])
            stats = [loadgen.run("127.0.0.1", target.port, load, 16, args.seconds)]
            cpu = machine.cpu_seconds([target.pid]) - cpu_before
            print(f"=== {scenario}: {1000 * cpu / max(stats[0].requests, 1):.2f} ms of server "
                  f"CPU per request; {stats[0].rps:.1f} req/s, p50 {stats[0].p50_ms:.1f} ms, "
                  f"p99 {stats[0].p99_ms:.1f} ms, {stats[0].errors} errors"
                  + ("" if spy_proc is None else " (under the profiler)"))
            if spy_proc is not None:
                spy_proc.wait()
                print(summarize(raw_path.read_text(), args.top))
            print(flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
