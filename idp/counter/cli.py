"""`idp halls …` and `idp staff …`: service halls and counter staff, scripted by operators.
Each command is one unit of work: it commits when it succeeds, and a refusal (exit 2, as
every idp command) leaves nothing written."""

from __future__ import annotations

import json
import sys
from typing import Any, NoReturn

import click
from flask.cli import with_appcontext

from idp.audit.actors import cli_operator
from idp.counter import counter
from idp.counter.errors import CounterError
from idp.counter.models import ROLES, ServiceHall, StaffAccount
from idp.extensions import db, get_settings


def _refuse(message: str) -> NoReturn:
    db.session.rollback()
    click.echo(f"Error: {message}", err=True)
    sys.exit(2)


def _hall_dict(hall: ServiceHall) -> dict[str, Any]:
    return {"code": hall.code, "name": hall.name, "division_code": hall.division_code,
            "ip_allowlist": hall.ip_allowlist or []}


def _staff_dict(staff: StaffAccount) -> dict[str, Any]:
    return {"id": staff.id, "username": staff.username, "name": staff.display_name,
            "role": staff.role, "hall": staff.hall_code, "enrolled": staff.enrolled,
            "disabled": staff.disabled}


@click.group("halls", help="Service halls (行政服务中心) where counters verify people.")
def halls_group() -> None:
    pass


@halls_group.command("create")
@click.option("--code", required=True, help="Short stable code, e.g. QY-ZWFW.")
@click.option("--name", required=True, help="e.g. 清远市政务服务中心")
@click.option("--division", required=True, help="GB/T 2260 division code, e.g. 441800.")
@click.option("--ip-allow", "ip_allow", multiple=True, metavar="CIDR",
              help="Workstation network of the hall (repeatable); staff are refused elsewhere.")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def halls_create(code: str, name: str, division: str, ip_allow: tuple[str, ...],
                 as_json: bool) -> None:
    try:
        hall = counter().staff.create_hall(code=code, name=name, division_code=division,
                                           ip_allowlist=ip_allow, actor=cli_operator())
        db.session.commit()
    except CounterError as error:
        _refuse(str(error))
    if as_json:
        click.echo(json.dumps(_hall_dict(hall), ensure_ascii=False))
    else:
        networks = ", ".join(hall.ip_allowlist or []) or "any network"
        click.echo(f"created hall {hall.code} ({hall.name}), division {hall.division_code}, "
                   f"staff may sign in from: {networks}")


@halls_group.command("list")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def halls_list(as_json: bool) -> None:
    halls = counter().staff.halls()
    if as_json:
        click.echo(json.dumps([_hall_dict(h) for h in halls], ensure_ascii=False))
        return
    for hall in halls:
        click.echo(f"{hall.code}\t{hall.division_code}\t{hall.name}\t"
                   f"{' '.join(hall.ip_allowlist or []) or '-'}")


@click.group("staff", help="Counter staff accounts (TOTP is mandatory for every one).")
def staff_group() -> None:
    pass


def _print_credentials(staff: StaffAccount, password: str, token: str, as_json: bool,
                       verb: str) -> None:
    link = get_settings().issuer + "/counter/enrol/" + token
    expires = staff.enrolment_expires_at.isoformat() if staff.enrolment_expires_at else None
    if as_json:
        click.echo(json.dumps({**_staff_dict(staff), "one_time_password": password,
                               "enrolment_link": link, "enrolment_expires_at": expires},
                              ensure_ascii=False))
        return
    click.echo(f"{verb} staff account {staff.username} ({staff.role}) at hall "
               f"{staff.hall_code}")
    click.echo(f"one-time password: {password}")
    click.echo(f"enrolment link: {link}")
    click.echo(f"Hand both over in person; they are shown once and work together until "
               f"{expires}. The link sets a new password and the authenticator app every staff "
               f"sign-in needs.")


@staff_group.command("create")
@click.option("--username", required=True)
@click.option("--hall", required=True, help="The hall's code.")
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--name", help="Display name.")
@click.option("--id-number", help="The staff member's own 公民身份号码: they can then never act on "
                                  "their own citizen account (kept as a keyed fingerprint).")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def staff_create(username: str, hall: str, role: str, name: str | None,
                 id_number: str | None, as_json: bool) -> None:
    try:
        credentials = counter().staff.create_staff(
            username=username, hall_code=hall, role=role, display_name=name,
            id_number=id_number, actor=cli_operator())
        db.session.commit()
    except CounterError as error:
        _refuse(str(error))
    _print_credentials(credentials.staff, credentials.password, credentials.token, as_json,
                       "created")


def _member(username: str) -> StaffAccount:
    member = counter().staff.by_username(username)
    if member is None:
        _refuse(f"no staff account {username}")
    return member


@staff_group.command("disable")
@click.option("--username", required=True)
@with_appcontext
def staff_disable(username: str) -> None:
    """Disable the account and end its sessions at once."""
    member = _member(username)
    counter().staff.disable(member, cli_operator())
    db.session.commit()
    counter().sessions.end_all(member.id)
    click.echo(f"disabled staff account {member.username}")


@staff_group.command("reset")
@click.option("--username", required=True)
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def staff_reset(username: str, as_json: bool) -> None:
    """A lost phone or password: a new one-time password and enrolment link."""
    member = _member(username)
    if member.disabled:
        _refuse(f"staff account {username} is disabled")
    credentials = counter().staff.reissue_enrolment(member, cli_operator())
    db.session.commit()
    counter().sessions.end_all(member.id)
    _print_credentials(credentials.staff, credentials.password, credentials.token, as_json,
                       "re-enrolled")


@staff_group.command("list")
@click.option("--hall", help="Only this hall.")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def staff_list(hall: str | None, as_json: bool) -> None:
    members = counter().staff.in_hall(hall)
    if as_json:
        click.echo(json.dumps([_staff_dict(m) for m in members], ensure_ascii=False))
        return
    for m in members:
        state = "disabled" if m.disabled else "active" if m.enrolled else "enrolment pending"
        click.echo(f"{m.username}\t{m.role}\t{m.hall_code}\t{state}\t{m.display_name or ''}")
