"""`idp access`: import the catalogue and business systems, roll up login evidence, print the
access rates and follow-up lists, store monthly snapshots (scripted by operators and cron)."""

from __future__ import annotations

import csv
import json
import os
import sys
import unicodedata
from collections.abc import Callable, Sequence
from typing import Any, NoReturn, TypeVar, cast

import click
from flask import current_app
from flask.cli import with_appcontext

from idp.access.errors import AccessError
from idp.access.followup import FollowUp, SystemSummary
from idp.access.imports import KINDS, ImportReport
from idp.access.models import STATUSES
from idp.access.ports import LoginEvidence
from idp.access.rates import TYPE_NAMES, Rate, Report
from idp.access.services import AccessService
from idp.audit.actors import cli_operator
from idp.extensions import db

F = TypeVar("F", bound=Callable[..., Any])


def _commits(command: F) -> F:
    """Each command commits its own unit of work (an import with --skip-bad commits before
    exiting 2), so the `idp` group's committing wrapper leaves it alone."""
    command.commits = True  # type: ignore[attr-defined]
    return command


def _fail(message: str, details: Sequence[str] = ()) -> NoReturn:
    click.echo(f"Error: {message}", err=True)
    for line in details:
        click.echo(line, err=True)
    sys.exit(2)


def _service() -> AccessService:
    return cast(AccessService, current_app.extensions["idp.access"])


def _refresh(service: AccessService) -> None:
    """Bring the login evidence up to date before showing figures, and keep it."""
    evidence = cast(LoginEvidence, current_app.extensions["idp.login_evidence"])
    service.refresh(evidence)
    db.session.commit()


@click.group("access", help="Business systems, the item catalogue and the access rates "
                            "(接入率) against the provincial targets.")
def access_group() -> None:
    pass


@access_group.command("import", help="Import departments, items or systems from a CSV file "
                      "(UTF-8 or GBK; formats in docs/access-rates.md). All or nothing: exit 2 "
                      "listing every rejected row, with nothing written.")
@click.argument("kind", type=click.Choice(KINDS))
@click.argument("file", type=click.File("rb"))
@click.option("--dry-run", is_flag=True, help="Check and count, write nothing.")
@click.option("--skip-bad", is_flag=True, help="Import the good rows even when others are "
              "rejected (still exit 2, listing them).")
@click.option("--json", "as_json", is_flag=True, help="Print the import report as JSON.")
@with_appcontext
@_commits
def access_import(kind: str, file: Any, dry_run: bool, skip_bad: bool, as_json: bool) -> None:
    source = os.path.basename(getattr(file, "name", "") or "") or "-"
    report = _service().import_csv(kind, file.read(), actor=cli_operator(), source=source,
                                   dry_run=dry_run, skip_bad=skip_bad)
    if report.written:
        db.session.commit()
    if as_json:
        click.echo(json.dumps(report.to_dict(), ensure_ascii=False))
    else:
        click.echo(_summary(report))
    details = [] if as_json else [_rejected_line(r, report.refused) for r in report.rejected]
    if report.refused:
        _fail(f"{report.source} was refused: nothing written", details)
    if report.rejected:
        what = ("the other rows were imported" if report.written else "nothing written")
        _fail(f"{len(report.rejected)} of {report.rows} rows rejected: {what}", details)


def _summary(report: ImportReport) -> str:
    counts = (f"{report.created} created, {report.updated} updated, "
              f"{report.unchanged} unchanged")
    done = " (dry run: nothing written)" if report.dry_run else \
        ("" if report.written or not report.rejected else " (nothing written)")
    if report.refused:
        return f"{report.source} ({report.encoding or 'unreadable'}): not imported"
    return (f"{report.source} ({report.encoding}): {report.rows} {report.kind} rows: "
            f"{counts}{done}")


def _rejected_line(row: Any, refused: bool) -> str:
    where = ("file" if not row.row else f"line {row.row}") if refused else f"row {row.row}"
    key = f" ({row.key})" if row.key else ""
    return f"  {where}{key}: " + "; ".join(f"{c}: {m}" for c, m in row.problems)


@access_group.command("report", help="Print every rate: provincial departments (licensing, "
                      "public service), cities by group, counties with --counties.")
@click.option("--month", help="A stored month (YYYY-MM) instead of the current figures.")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table",
              show_default=True)
@click.option("--counties", is_flag=True, help="Table: each city's counties under it.")
@with_appcontext
@_commits
def access_report(month: str | None, fmt: str, counties: bool) -> None:
    service = _service()
    if month:
        try:
            report = service.stored_report(month)
        except AccessError as error:
            _fail(str(error))
        if report is None:
            _fail(f"no figures are stored for {month} (idp access snapshot --month {month})")
    else:
        _refresh(service)
        report = service.report()
    if fmt == "json":
        out = report.to_dict()
        if not month:
            out.update(live_days=service.live_days, targets=service.targets.spec())
        click.echo(json.dumps(out, ensure_ascii=False))
    elif fmt == "csv":
        _print_csv(report)
    else:
        _print_table(report, counties, None if month else service.live_days)


def _print_csv(report: Report) -> None:
    rows = [r.to_dict() for r in report]
    writer = csv.DictWriter(sys.stdout, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)


COLUMNS = (("", 40), ("items", 7), ("declared", 15), ("verified", 15), ("target", 7),
           ("gap", 7))


def _print_table(report: Report, counties: bool, live_days: int | None) -> None:
    when = f"stored for {report.month}" if report.month else f"as of {report.as_of}"
    window = f"; live = logins in the last {live_days} days" if live_days else ""
    click.echo(f"Access rates (接入率), {when}{window}")
    click.echo("declared: a system handling the item is connected or live; verified: one is "
               "live")
    for title, tops in (("Provincial departments (省级部门)", report.of_kind("province")),
                        ("Cities (地市, counties included)", report.of_kind("group"))):
        click.echo("")
        click.echo(_line([(title, c[1]) if i == 0 else c for i, c in enumerate(COLUMNS)]))
        for top in tops:
            click.echo(_rate_line(top, 0))
            for child in report.children(top.scope):
                click.echo(_rate_line(child, 1))
                if counties:
                    for county in report.children(child.scope):
                        click.echo(_rate_line(county, 2))


def _rate_line(rate: Rate, depth: int) -> str:
    label = rate.name + (f" {TYPE_NAMES[rate.item_type]}" if rate.item_type else "")
    cells = ["  " * depth + label, str(rate.items), _pair(rate.declared, rate.declared_rate),
             _pair(rate.verified, rate.verified_rate), f"{rate.target:g}%",
             "-" if rate.gap is None else ("met" if rate.met else f"{rate.gap:g}")]
    return _line(list(zip(cells, (w for _, w in COLUMNS), strict=True)))


def _pair(count: int, rate: float | None) -> str:
    return f"{count} {'-' if rate is None else f'{rate:.2f}%'}"


def _line(cells: list[tuple[str, int]]) -> str:
    out = []
    for i, (text, width) in enumerate(cells):
        pad = max(0, width - _width(text))
        out.append(text + " " * pad if i == 0 else " " * pad + text)
    return " ".join(out).rstrip()


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


@access_group.command("follow-up", help="The follow-up list (督办清单) of a scope: items no "
                      "live system handles, the systems responsible, and systems declared "
                      "connected without logins. SCOPE: dept:<code>:licensing, "
                      "dept:<code>:public_service, city:<code>, county:<code>, group:<name>, "
                      "province:<type>.")
@click.argument("scope")
@click.option("--limit", type=click.IntRange(min=1), help="List at most this many items.")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
@_commits
def access_follow_up(scope: str, limit: int | None, as_json: bool) -> None:
    service = _service()
    _refresh(service)
    try:
        found = service.follow_up(scope, limit=limit)
    except AccessError as error:
        _fail(str(error))
    if as_json:
        click.echo(json.dumps(found.to_dict(), ensure_ascii=False))
    else:
        _print_follow_up(found, service.live_days)


def _print_follow_up(found: FollowUp, live_days: int) -> None:
    rate = found.rate
    head = f"督办清单 {found.scope}" + (f" {rate.name}" if rate else "") + f", {found.as_of}"
    click.echo(head)
    if rate is not None:
        declared = _pair(rate.declared, rate.declared_rate)
        click.echo(f"verified {_pair(rate.verified, rate.verified_rate)} of {rate.items} items "
                   f"(target {rate.target:g}%), declared {declared}")
    click.echo(f"\nItems not connected ({found.unconnected}"
               + (f", first {len(found.items)} listed" if len(found.items) < found.unconnected
                  else "") + "):")
    for item in found.items:
        click.echo(f"  {item.code} {item.name} [{TYPE_NAMES.get(item.item_type, '')}] "
                   f"{item.department_name}")
        for system in item.systems:
            click.echo(f"      {_system_line(system)}")
        if not item.systems:
            click.echo("      no business system handles it")
    click.echo(f"\nSystems declared connected without logins in the last {live_days} days "
               f"({len(found.dropped)}):")
    for system in found.dropped:
        click.echo(f"  {_system_line(system)}")


def _system_line(system: SystemSummary) -> str:
    last = system.last_login_day.isoformat() if system.last_login_day else "never"
    contact = f", contact {system.contact}" if system.contact else ""
    return (f"{system.code} {system.name} ({system.department_name}): {system.status}, "
            f"last login {last}{contact}")


@access_group.command("snapshot", help="Store this month's figures for the trend and the "
                      "monthly bulletin (月度通报). Safe to run twice: the month's figures "
                      "are replaced.")
@click.option("--month", help="YYYY-MM: this month (default) or the previous one.")
@with_appcontext
@_commits
def access_snapshot(month: str | None) -> None:
    service = _service()
    _refresh(service)
    try:
        stored = service.snapshot(month, actor=cli_operator())
    except AccessError as error:
        _fail(str(error))
    db.session.commit()
    click.echo(f"stored {stored} scopes for {month or service.today().strftime('%Y-%m')}")


@access_group.command("rollup", help="Count completed SSO logins per client and day from the "
                      "token records (for cron). Without --days: since the last rollup.")
@click.option("--days", type=click.IntRange(min=1, max=366),
              help="Recompute the last N days (today included) entirely.")
@with_appcontext
@_commits
def access_rollup(days: int | None) -> None:
    service = _service()
    evidence = cast(LoginEvidence, current_app.extensions["idp.login_evidence"])
    done = service.rollup(evidence, days) if days else service.refresh(evidence)
    db.session.commit()
    assert done is not None  # refresh without max_age always rolls up
    click.echo(f"rolled up {done.first_day}..{done.last_day}: {done.client_days} client-days, "
               f"{done.logins} logins ({done.written} rows written, {done.removed} removed)")


@access_group.command("status", help="Declare a business system's status (registered, "
                      "testing, connected, retired); the day is recorded and audited.")
@click.argument("code")
@click.argument("status", type=click.Choice(STATUSES))
@with_appcontext
@_commits
def access_status(code: str, status: str) -> None:
    try:
        system = _service().systems.set_status(code, status, actor=cli_operator())
    except AccessError as error:
        _fail(str(error))
    db.session.commit()
    click.echo(f"{system.code}: {system.status} since {system.status_dates.get(status)}")
