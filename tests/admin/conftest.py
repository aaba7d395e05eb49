"""Operators' console fixtures: operators signed in to /admin with their authenticator app
(staff accounts from the counter's fixtures), and reading the console's pages."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask

from tests.conftest import csrf_from, remember_secret
from tests.counter.conftest import (  # noqa: F401 - fixtures the console's tests use
    StaffMember,
    citizen_with_document,
    error_of,
    make_staff,
    notice_of,
    text_of,
)

SECRET_RE = re.compile(r'<code class="secret" id="client-secret">([^<]+)</code>')
CLIENT_ID_RE = re.compile(r'<code id="client-id">([^<]+)</code>')


@dataclass
class Operator:
    """A staff member driving the console in their own browser (test client)."""

    member: StaffMember

    @property
    def client(self) -> Any:
        return self.member.client

    @property
    def id(self) -> str:
        return self.member.id

    def login(self, password: str | None = None, code: str | None = None,
              **environ: Any) -> Any:
        token = csrf_from(text_of(self.client.get("/admin/login")))
        return self.client.post("/admin/login", data={
            "csrf_token": token, "username": self.member.username,
            "password": password or self.member.password,
            "code": self.member.code() if code is None else code}, environ_base=environ)

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.client.get(path, **kwargs)

    def csrf(self) -> str:
        return csrf_from(text_of(self.client.get("/admin/systems")))

    def post(self, path: str, data: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        """A form post with this browser's CSRF token."""
        return self.client.post(path, data={"csrf_token": self.csrf(), **(data or {})},
                                **kwargs)


@pytest.fixture
def make_operator(app: Flask,
                  make_staff: Callable[..., StaffMember]) -> Callable[..., Operator]:  # noqa: F811
    """make_operator(role="operator", signed_in=True, **make_staff options): a staff member
    (an operator unless told otherwise) signed in to the console, not to the workbench."""

    def make(role: str = "operator", *, signed_in: bool = True, **kwargs: Any) -> Operator:
        member = make_staff(role, signed_in=False, **kwargs)
        operator = Operator(member)
        if signed_in:
            answer = operator.login()
            assert answer.status_code == 303, error_of(answer)
        return operator

    return make


def secret_of(response: Any) -> str:
    """The client secret a result page shows once (remembered: it must reach no log)."""
    match = SECRET_RE.search(text_of(response))
    assert match, text_of(response)[:2000]
    secret = html.unescape(match.group(1))
    remember_secret(secret)
    return secret


def client_id_of(response: Any) -> str:
    match = CLIENT_ID_RE.search(text_of(response))
    assert match, text_of(response)[:2000]
    return html.unescape(match.group(1))




@pytest.fixture(autouse=True)
def every_login_shows_at_once(change_settings: Any) -> None:
    """Console pages roll the login evidence up at most every IDP_ACCESS_REFRESH_SECONDS
    (30 s); these tests look right after each login, so on every view."""
    change_settings(access_refresh_seconds=0)
