"""Access rates at provincial scale: 200,000 items, 20,000 business systems, their clients and
half a year of per-client login days on PostgreSQL; times the full report (every rate), the
follow-up list of one city and of one department, the system list, and the evidence rollup a
report runs first. Prints numbers (median of --runs); asserts nothing.

    .venv/bin/python bench/access_rates.py [--items 200000] [--systems 20000] [--runs 5]

Drops and re-creates the PostgreSQL database idp_bench_access (nothing else is touched).
"""

from __future__ import annotations

import argparse
import io
import random
import statistics
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from idp import create_app  # noqa: E402
from idp.access.evidence import update_last_login_days  # noqa: E402
from idp.access.models import CITY, COUNTY, PROVINCE  # noqa: E402
from idp.access.ports import BEIJING  # noqa: E402
from idp.access.rates import counties_of  # noqa: E402
from idp.access.regions import CITIES  # noqa: E402
from idp.access.services import AccessService  # noqa: E402
from idp.extensions import db  # noqa: E402
from idp.oauth.evidence import TokenLoginEvidence  # noqa: E402
from idp.oauth.models import Client  # noqa: E402
from idp.settings import Settings  # noqa: E402

DATABASE = "idp_bench_access"
PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
DATABASE_URL = f"postgresql://postgres@127.0.0.1:5432/{DATABASE}"
TYPES = ("licensing", "public_service", "other")
STATUSES = ("registered", "testing", "connected", "retired")


def _copy(conn: Any, table: str, columns: tuple[str, ...], rows: Iterable[tuple[Any, ...]]
          ) -> int:
    """COPY rows in (text format; values never hold tabs, newlines or backslashes)."""
    buffer = io.StringIO()
    n = 0
    for row in rows:
        buffer.write("\t".join("\\N" if v is None else str(v) for v in row) + "\n")
        n += 1
    with conn.cursor() as cursor, cursor.copy(
            f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        copy.write(buffer.getvalue())
    return n


def _departments(rng: random.Random) -> list[tuple[str, str, str, str]]:
    rows = [(f"GD-{n:03d}", f"广东省第{n}厅局", PROVINCE, "440000") for n in range(60)]
    for city in CITIES:
        rows += [(f"C{city.code}-{n:02d}", f"{city.name}第{n}局", CITY, city.code)
                 for n in range(40)]
        for county in counties_of(city.prefix):
            rows += [(f"K{county}-{n:02d}", f"{county}第{n}局", COUNTY, county)
                     for n in range(25)]
    rng.shuffle(rows)
    return rows


def build(conn: Any, items: int, systems: int, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    departments = _departments(rng)
    now = datetime.now(UTC)
    _copy(conn, "access_department", ("code", "name", "level", "division_code", "created_at"),
          ((c, n, lv, d, now) for c, n, lv, d in departments))
    # items: a fifth provincial, the rest city and county (weighted by department counts)
    provincial = [d for d in departments if d[2] == PROVINCE]
    local = [d for d in departments if d[2] != PROVINCE]
    item_rows, by_department = [], {}
    for n in range(items):
        code, _, level, division = rng.choice(provincial if n % 5 == 0 else local)
        item_type = rng.choices(TYPES, (45, 45, 10))[0]
        item_code = f"{code}-{n:06d}"
        item_rows.append((item_code, f"事项{n}", item_type, code, level, division, now, now))
        by_department.setdefault(code, []).append(item_code)
    _copy(conn, "access_item", ("code", "name", "item_type", "department_code", "level",
                                "division_code", "created_at", "updated_at"), item_rows)
    # systems of departments that have items; each handles some of its department's items
    owners = sorted(by_department)
    system_rows, links = [], []
    for n in range(1, systems + 1):
        department = rng.choice(owners)
        status = rng.choices(STATUSES, (15, 15, 60, 10))[0]
        system_rows.append((n, f"SYS-{n:05d}", f"业务系统{n}", department, status,
                            '{"registered": "2026-01-05"}', now, now))
        pool = by_department[department]
        links += [(n, code) for code in rng.sample(pool, min(len(pool), rng.randint(5, 25)))]
    _copy(conn, "access_system", ("id", "code", "name", "department_code", "status",
                                  "status_dates", "created_at", "updated_at"), system_rows)
    links = list(dict.fromkeys(links))
    _copy(conn, "access_system_item", ("system_id", "item_code"), links)
    conn.execute("SELECT setval(pg_get_serial_sequence('access_system', 'id'), %s)",
                 (systems,))
    return {"departments": len(departments), "items": items, "systems": systems,
            "links": len(links), "statuses": [r[4] for r in system_rows]}


def clients_and_days(conn: Any, statuses: list[str], seed: int, history: int) -> dict[str, int]:
    """One or two clients per system; four in five non-retired systems log in on about
    40 % of the days of `history` days, half of them no longer in the last 30 days."""
    rng = random.Random(seed + 1)
    client_ids: list[tuple[str, int]] = []
    for system_id in range(1, len(statuses) + 1):
        client_ids += [(f"bench-{system_id}-{k}", system_id) for k in range(rng.choice((1, 2)))]

    db.session.execute(Client.__table__.insert(), [
        {"client_id": c, "name": c, "auth_method": "client_secret_basic",
         "redirect_uris": ["https://rp.example.gov.cn/cb"], "post_logout_redirect_uris": [],
         "grant_types": ["authorization_code"], "scope": "openid", "introspects_for": []}
        for c, _ in client_ids])
    db.session.commit()
    _copy(conn, "access_system_client", ("client_id", "system_id"), client_ids)
    today = datetime.now(BEIJING).date()

    def days() -> Iterator[tuple[str, date, int]]:
        for client, system_id in client_ids:
            if statuses[system_id - 1] == "retired" or rng.random() > 0.8:
                continue
            stopped = 30 + rng.randint(1, 90) if rng.random() < 0.5 else 0
            for back in range(stopped, history):
                if rng.random() < 0.4:
                    yield client, today - timedelta(days=back), rng.randint(1, 400)

    written = _copy(conn, "access_client_day", ("client_id", "day", "logins"), days())
    conn.execute("INSERT INTO access_state (id, version, rolled_through, rolled_at) "
                 "VALUES (1, 'bench', %s, now())", (today,))
    return {"clients": len(client_ids), "client_days": written}


def tokens(conn: Any, count: int, clients: int, seed: int) -> None:
    """`count` token records over the last two days: a third authorization_code (logins),
    the rest refresh and client_credentials; what the rollup before a report reads."""
    rng = random.Random(seed + 2)
    now = datetime.now(UTC)
    grants = ("authorization_code", "refresh_token", "client_credentials")
    _copy(conn, "token_issued", ("issued_at", "grant_type", "client_id", "jti", "scope"), (
        (now - timedelta(seconds=rng.randint(0, 2 * 86400)), grants[n % 3],
         f"bench-{rng.randint(1, clients)}-0", f"j{n}", "openid") for n in range(count)))


def timed(label: str, runs: int, work: Callable[[], Any]) -> Any:
    times, result = [], None
    for _ in range(runs):
        db.session.rollback()
        started = time.perf_counter()
        result = work()
        times.append((time.perf_counter() - started) * 1000)
    print(f"  {label:<52} median {statistics.median(times):7.1f} ms "
          f"(min {min(times):.1f}, max {max(times):.1f}, {runs} runs)")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=200_000)
    parser.add_argument("--systems", type=int, default=20_000)
    parser.add_argument("--history", type=int, default=180, help="days of login history")
    parser.add_argument("--tokens", type=int, default=600_000,
                        help="token records in the last two days (read by the rollup)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=2017)
    args = parser.parse_args()

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {DATABASE}")
    settings = Settings.from_env({}, env="development", database_url=DATABASE_URL,
                                 secret_key="bench-" + "k" * 40, database_timeout=120)
    app = create_app(settings)
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        started = time.perf_counter()
        raw = db.engine.raw_connection()
        conn = raw.driver_connection
        assert isinstance(conn, psycopg.Connection)
        built = build(conn, args.items, args.systems, args.seed)
        conn.commit()
        built.update(clients_and_days(conn, built.pop("statuses"), args.seed, args.history))
        tokens(conn, args.tokens, args.systems, args.seed)
        conn.commit()
        raw.close()
        update_last_login_days()  # what the rollup keeps up to date
        db.session.commit()
        with psycopg.connect(DATABASE_URL, autocommit=True) as fresh:
            fresh.execute("VACUUM ANALYZE")  # the steady state autovacuum keeps
        print(f"built in {time.perf_counter() - started:.1f} s: " + ", ".join(
            f"{v:,} {k.replace('_', ' ')}" for k, v in built.items())
            + f", {args.tokens:,} token records")
        measure(app, args.runs)


def measure(app: Any, runs: int) -> None:
    access = AccessService(app.extensions["idp.clock"], live_days=30)
    evidence = TokenLoginEvidence()
    report = access.report()
    busiest = max(report.of_kind("city"), key=lambda r: r.items)
    department = max(report.of_kind("department"), key=lambda r: r.items)
    print(f"PostgreSQL {db.session.execute(db.text('SHOW server_version')).scalar()}; "
          f"{len(report.rates)} scopes; live window 30 days")

    def computed() -> Any:
        access._cached = None  # noqa: SLF001 - the bench measures the computation itself
        return access.report()

    timed("full report, computed (every rate, declared and verified)", runs, computed)
    timed("full report, catalogue unchanged (reused)", runs, access.report)
    timed(f"follow-up list, {busiest.name} ({busiest.items:,} items)", runs,
          lambda: access.follow_up(busiest.scope, report=report))
    timed(f"follow-up list, {busiest.name}, first 200 items", runs,
          lambda: access.follow_up(busiest.scope, report=report, limit=200))
    timed(f"follow-up list, one department ({department.items:,} items)", runs,
          lambda: access.follow_up(department.scope, report=report))
    timed("system list, first page of 50", runs, lambda: access.systems.search(limit=50))
    timed("system list, live systems of one city, first 50", runs,
          lambda: access.systems.search(city=busiest.scope[5:], status="live", limit=50))
    found = access.follow_up(busiest.scope, report=report)
    print(f"  ({busiest.name}: verified {busiest.verified_rate}% of {busiest.items:,}, "
          f"{found.unconnected:,} items on its follow-up list, {len(found.dropped)} systems "
          f"declared connected without logins)")
    timed("refresh: roll up yesterday and today from tokens", runs,
          lambda: access.refresh(evidence))
    timed("rollup of the whole live window (cron)", max(1, runs // 2),
          lambda: access.rollup(evidence, 30))


if __name__ == "__main__":
    main()
