"""Context for the numbers: the machine, the cost of one RSA-2048 signature and of one argon2id
hash, CPU use per process."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from joserfc import jwt
from joserfc.jwk import RSAKey

TICK = os.sysconf("SC_CLK_TCK")
NODE_SIGN = """
const { generateKeyPairSync, sign } = require('node:crypto');
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const data = Buffer.alloc(600, 97); const n = Number(process.argv[1]);
for (let i = 0; i < 50; i++) sign('sha256', data, privateKey);
const t = process.hrtime.bigint();
for (let i = 0; i < n; i++) sign('sha256', data, privateKey);
console.log(Number(process.hrtime.bigint() - t) / n / 1000);
"""

# Run by argon2_hashes_per_second in its own process on CPU 0. The cost is what ours uses: the
# defaults of idp.settings.Settings unless the environment sets IDP_ARGON2_*.
ARGON2_HASH = """
import json, os, sys, time
from dataclasses import fields
from argon2 import PasswordHasher, Type
from idp.settings import Settings
cost = {f.name: int(os.environ.get("IDP_" + f.name.upper(), f.default))
        for f in fields(Settings) if f.name.startswith("argon2_")}
hasher = PasswordHasher(time_cost=cost["argon2_time_cost"], memory_cost=cost["argon2_memory_kib"],
                        parallelism=cost["argon2_parallelism"], type=Type.ID)
seconds = float(sys.argv[1])
hasher.hash("Bench-Passw0rd!")
count, started = 0, time.perf_counter()
while (elapsed := time.perf_counter() - started) < seconds:
    hasher.hash("Bench-Passw0rd!")
    count += 1
print(json.dumps({**cost, "hashes": count, "seconds": elapsed}))
"""


def describe() -> dict[str, Any]:
    model = next((line.split(":", 1)[1].strip()
                  for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor())
    node = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
    return {"nproc": os.cpu_count(), "cpu_model": model, "kernel": platform.release(),
            "python": platform.python_version(), "node": node}


def _per_call_us(fn: Callable[[], object], count: int) -> float:
    for _ in range(20):
        fn()
    started = time.perf_counter()
    for _ in range(count):
        fn()
    return round((time.perf_counter() - started) / count * 1e6, 1)


def rsa_sign_us(count: int = 300) -> dict[str, float]:
    """Microseconds per RSA-2048 signature: a whole RS256 JWT with joserfc (our signer), the bare
    signature with cryptography (what joserfc calls) and with node:crypto (what the peer calls)."""
    key = RSAKey.generate_key(2048, private=True)
    now = int(time.time())
    claims = {"iss": "http://127.0.0.1:5000", "sub": "0" * 36, "aud": "c_" + "0" * 24,
              "client_id": "c_" + "0" * 24, "iat": now, "exp": now + 600,
              "jti": "0" * 32 + ".abcdefghijklmnop", "scope": "openid profile"}
    header = {"alg": "RS256", "kid": "rs256-bench", "typ": "at+jwt"}
    data = b"a" * 600
    node = subprocess.run(["node", "-e", NODE_SIGN, str(count)], capture_output=True,
                          text=True, check=True).stdout
    return {
        "joserfc_jwt_encode_us": _per_call_us(
            lambda: jwt.encode(header, claims, key, algorithms=["RS256"]), count),
        "cryptography_sign_us": _per_call_us(
            lambda: key.private_key.sign(data, padding.PKCS1v15(), hashes.SHA256()), count),
        "node_crypto_sign_us": round(float(node), 1)}


def argon2_cost(seconds: float = 3.0, environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """argon2id hashes per second on CPU 0 (the servers' core) at the cost ours uses, hashing
    in a loop for `seconds` in a process of its own: the most password logins one core of ours
    could do. `environ` is the environment ours gets (default: this one, which ours inherits)."""
    root = str(Path(__file__).resolve().parent.parent)  # idp from this checkout, as ours runs
    env = {**(os.environ if environ is None else environ)}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
    done = subprocess.run(["taskset", "-c", "0", sys.executable, "-c", ARGON2_HASH,
                           str(seconds)], env=env, cwd=root, capture_output=True, text=True,
                          check=True)
    found = json.loads(done.stdout.strip().splitlines()[-1])
    rate = found["hashes"] / found["seconds"]
    return {"hashes_per_second": round(rate, 1), "ms_per_hash": round(1000 / rate, 2),
            "memory_kib": found["argon2_memory_kib"], "time_cost": found["argon2_time_cost"],
            "parallelism": found["argon2_parallelism"], "cpu": 0,
            "seconds": round(found["seconds"], 2)}


def argon2_hashes_per_second(seconds: float = 3.0,
                             environ: Mapping[str, str] | None = None) -> float:
    """Just the rate of argon2_cost: argon2id hashes per second on CPU 0."""
    return float(argon2_cost(seconds, environ)["hashes_per_second"])


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds the processes have used so far (gone processes count 0)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / TICK


def busy_cores() -> tuple[float, float]:
    """(busy, total) CPU ticks over all cores so far, from /proc/stat."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, sum(fields)


def busy_share(before: tuple[float, float], after: tuple[float, float]) -> float:
    """Cores kept busy between two busy_cores() readings, by anything on the machine."""
    busy, total = after[0] - before[0], after[1] - before[1]
    return busy / total * (os.cpu_count() or 1) if total else 0.0


def background_load(seconds: float = 2.0) -> float:
    """Cores busy while nothing of ours runs: more than ~0.1 means the numbers will be noisy."""
    before = busy_cores()
    time.sleep(seconds)
    return busy_share(before, busy_cores())


def wait_quiet(limit: float, threshold: float = 0.1) -> float:
    """Wait up to `limit` seconds for other work on the machine to stop; return the last load."""
    deadline = time.monotonic() + limit
    load = background_load(1.0)
    while load > threshold and time.monotonic() < deadline:
        load = background_load(1.0)
    return load


def store_pids(database: str) -> list[int]:
    """PostgreSQL backends serving `database`, and redis-server (read-only accounting)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            comm = (entry / "comm").read_text().strip()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if comm == "redis-server" or (comm == "postgres" and f" {database} ".encode() in cmdline):
            found.append(int(entry.name))
    return found
