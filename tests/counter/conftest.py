"""Counter-workbench fixtures: service halls, staff members signed in with their authenticator
app, citizens holding identity documents, and reading the workbench's pages."""

from __future__ import annotations

import html
import itertools
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient

from idp.audit.actors import Actor, cli_operator
from idp.extensions import db
from tests.conftest import csrf_from, remember_secret

HALL = "QY-ZWFW"
OTHER_HALL = "SW-ZWFW"
STAFF_PASSWORD = "Counter-Desk-2026!"
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
NOTICE_RE = re.compile(r'<p class="notice" role="status" id="notice">(.*?)</p>', re.S)
ERROR_RE = re.compile(r'<p class="error" role="alert" id="[\w-]*error">(.*?)</p>', re.S)
VALID = date(2035, 6, 30)


_NUMBERS = itertools.count(1)


def id_number(region: str = "441802", birth: str | None = None) -> str:
    """A valid GB 11643 citizen ID number, a different one on every call (remembered: it must
    never reach a log or an audit row)."""
    n = next(_NUMBERS)
    birth = birth or (date(1990, 3, 7) + timedelta(days=n // 1000)).strftime("%Y%m%d")
    body = f"{region}{birth}{n % 1000:03d}"
    total = sum(int(d) * w for d, w in zip(body, WEIGHTS, strict=True))
    number = body + "10X98765432"[total % 11]
    remember_secret(number)
    return number


def text_of(response: Any) -> str:
    return str(response.get_data(as_text=True))


def notice_of(response: Any) -> str | None:
    match = NOTICE_RE.search(text_of(response))
    return html.unescape(match.group(1)).strip() if match else None


def error_of(response: Any) -> str | None:
    match = ERROR_RE.search(text_of(response))
    return html.unescape(match.group(1)).strip() if match else None


def ensure_hall(app: Flask, code: str = HALL, ip_allow: tuple[str, ...] = ()) -> None:
    staff = app.extensions["idp.counter"].staff
    if staff.hall(code) is None:
        names = {HALL: "清远市政务服务中心", OTHER_HALL: "汕尾市政务服务中心"}
        division = "441500" if code == OTHER_HALL else "441800"
        staff.create_hall(code=code, name=names.get(code, code), division_code=division,
                          ip_allowlist=ip_allow, actor=cli_operator())
        db.session.commit()


def away_from_step_boundary(app: Flask) -> None:
    """Move the provider's clock past a TOTP step boundary that is a few seconds away, so a
    code made now is still judged in the same step (no flaky tests at :29 and :59)."""
    clock = app.extensions["idp.clock"]
    into_step = clock.now() % 30
    if into_step > 24:
        clock.advance(30 - into_step + 0.5)


@dataclass
class StaffMember:
    """A staff member as a test drives them: credentials, the authenticator secret and a
    browser (test client) of their own."""

    app: Flask
    id: str
    username: str
    password: str
    secret: str
    hall: str
    role: str
    client: FlaskClient

    def code(self, steps_ahead: int = 0) -> str:
        """The authenticator code for now (+ whole 30 s steps), on the provider's clock."""
        clock = self.app.extensions["idp.clock"]
        return pyotp.TOTP(self.secret).at(clock.now() + 30 * steps_ahead)

    def csrf(self, path: str = "/counter/login") -> str:
        return csrf_from(text_of(self.client.get(path)))

    def login(self, password: str | None = None, code: str | None = None,
              **environ: Any) -> Any:
        token = self.csrf()
        return self.client.post("/counter/login", data={
            "csrf_token": token, "username": self.username,
            "password": password or self.password,
            "code": self.code() if code is None else code}, environ_base=environ)

    def post(self, path: str, data: dict[str, Any], **kwargs: Any) -> Any:
        """A form post with this browser's CSRF token."""
        return self.client.post(path, data={"csrf_token": self.csrf(), **data}, **kwargs)

    def open_record(self, user_id: str, purpose: str = "service",
                    detail: str = "办理社保业务") -> Any:
        return self.post(f"/counter/person/{user_id}/open",
                         {"purpose": purpose, "detail": detail})

    def verify(self, user_id: str, number: str, name: str = "张三",
               valid_until: str = VALID.isoformat(), photo: bool = True,
               document_type: str = "id-number", **extra: str) -> Any:
        data = {"v-document_type": document_type, "v-number": number, "v-name": name,
                "v-valid_until": valid_until, **extra}
        if photo:
            data["v-photo_compared"] = "y"
        return self.post(f"/counter/person/{user_id}/verify", data)


@pytest.fixture
def make_staff(app: Flask) -> Callable[..., StaffMember]:
    """make_staff(role="clerk", hall=HALL, enrolled=True, signed_in=True, id_number=None):
    a staff member who finished enrolment (password and authenticator app) and, unless told
    otherwise, is signed in to the workbench in their own test client."""
    counter = iter(range(1, 10_000))

    def make(role: str = "clerk", hall: str = HALL, *, enrolled: bool = True,
             signed_in: bool = True, id_number: str | None = None,
             ip_allow: tuple[str, ...] = (), name: str | None = None) -> StaffMember:
        ensure_hall(app, hall, ip_allow)
        away_from_step_boundary(app)
        service = app.extensions["idp.counter"].staff
        username = f"{role.replace('_', '')}{next(counter)}{secrets.token_hex(2)}"
        credentials = service.create_staff(username=username, hall_code=hall, role=role,
                                           display_name=name or f"员工{username[-4:]}",
                                           id_number=id_number, actor=cli_operator())
        db.session.commit()
        remember_secret(credentials.password, credentials.token, STAFF_PASSWORD)
        secret, password = "", credentials.password
        if enrolled:
            pending = service.new_pending_totp(credentials.staff)
            clock = app.extensions["idp.clock"]
            # Enrolled on the previous time step, so two sign-ins fit in the current window.
            outcome, _ = service.enrol(credentials.staff,
                                       one_time_password=credentials.password,
                                       new_password=STAFF_PASSWORD,
                                       code=pyotp.TOTP(pending.secret).at(clock.now() - 30),
                                       pending=pending, ip="127.0.0.1")
            assert outcome == "enrolled", outcome
            db.session.commit()
            secret, password = pending.secret, STAFF_PASSWORD
        member = StaffMember(app, credentials.staff.id, username, password, secret, hall, role,
                             app.test_client())
        if enrolled and signed_in:
            response = member.login()
            assert response.status_code == 303, error_of(response)
        return member

    return make


@pytest.fixture
def citizen_with_document(app: Flask, make_user: Any) -> Callable[..., Any]:
    """A citizen whose ID number was verified in person (at level 5) at another counter."""
    def make(number: str | None = None, name: str = "张三", **kwargs: Any) -> Any:
        user = make_user(name=name, **kwargs)
        number = number or id_number()
        identity = app.extensions["idp.identity"]
        account = app.extensions["idp.accounts"].get(user.id)
        outcome = identity.verify_in_person(
            account, document_type="id-number", number=number, name=name, valid_until=VALID,
            photo_compared=True, actor=Actor.staff("setup", OTHER_HALL), staff_id="setup",
            hall_code=OTHER_HALL)
        assert outcome.ok, outcome
        db.session.commit()
        user.id_number = number
        return user

    return make
