"""The operators' console at provincial scale: times the pages an operator opens, through the
real Flask app (sign-in with TOTP, CSRF, templates, SVG charts) on the PostgreSQL database that
`bench/access_rates.py` built (200,000 items, 20,000 systems). Prints numbers; asserts nothing.

    .venv/bin/python bench/access_rates.py      # builds idp_bench_access (once)
    .venv/bin/python bench/admin_pages.py [--runs 7]
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
from pathlib import Path

import pyotp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from idp import create_app  # noqa: E402
from idp.audit.actors import Actor  # noqa: E402
from idp.extensions import db  # noqa: E402
from idp.settings import Settings  # noqa: E402

DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/idp_bench_access"
PASSWORD = "Bench-Console-2026!"
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|'
                  r'name="csrf_token" value="([^"]+)"')


def operator(app) -> tuple[str, str]:
    """A hall and an enrolled operator (once per database)."""
    counter = app.extensions["idp.counter"]
    staff = counter.staff
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        if staff.hall("BENCH") is None:
            staff.create_hall(code="BENCH", name="省政务服务数据管理局", division_code="440000",
                              actor=Actor.system("bench"))
        member = staff.by_username("bench-operator")
        if member is not None:
            staff.disable(member, Actor.system("bench"))
            member.username = f"bench-old-{int(time.time())}"
        made = staff.create_staff(username="bench-operator", hall_code="BENCH",
                                  role="operator", actor=Actor.system("bench"))
        pending = staff.new_pending_totp(made.staff)
        code = pyotp.TOTP(pending.secret).at(app.extensions["idp.clock"].now() - 30)
        outcome, _ = staff.enrol(made.staff, one_time_password=made.password,
                                 new_password=PASSWORD, code=code, pending=pending,
                                 ip="127.0.0.1")
        assert outcome == "enrolled", outcome
        db.session.commit()
        return "bench-operator", pending.secret


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    settings = Settings.from_env({}, env="development", database_url=DATABASE_URL,
                                 secret_key="bench-" + "k" * 40, database_timeout=120)
    app = create_app(settings)
    username, secret = operator(app)
    client = app.test_client()
    page = client.get("/admin/login").get_data(as_text=True)
    token = next(g for g in CSRF.search(page).groups() if g)
    signed_in = client.post("/admin/login", data={
        "csrf_token": token, "username": username, "password": PASSWORD,
        "code": pyotp.TOTP(secret).now()})
    assert signed_in.status_code == 303, signed_in.get_data(as_text=True)[:500]
    pages = ["/admin/access", "/admin/access/city/440100", "/admin/access/city/441800",
             "/admin/systems", "/admin/systems?status=live"]
    print(f"{DATABASE_URL.rsplit('/', 1)[1]}: median of {args.runs} views after one warm-up "
          f"(the first view of a page also brings the login evidence up to date)")
    for path in pages:
        first = time.perf_counter()
        answer = client.get(path)
        first_ms = (time.perf_counter() - first) * 1000
        assert answer.status_code == 200, (path, answer.status_code)
        times = []
        for _ in range(args.runs):
            started = time.perf_counter()
            assert client.get(path).status_code == 200
            times.append((time.perf_counter() - started) * 1000)
        print(f"  {path:<32} first {first_ms:7.1f} ms, then median "
              f"{statistics.median(times):6.1f} ms (max {max(times):.1f})")


if __name__ == "__main__":
    main()
