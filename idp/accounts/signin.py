"""Completing a sign-in: the one service every login method calls once the person has proven
their factors (password, SMS code, second step, and later the counter, upstream sources and
certificates). It alone sets the session's amr (assurance.amr_for), auth_time and
authentication count, clears the account's failure count, and audits the sign-in; login
methods never set session fields themselves (design.md "Sign-in")."""

from __future__ import annotations

from dataclasses import dataclass

from idp.accounts.assurance import amr_for
from idp.accounts.devices import device_label
from idp.accounts.lockout import LoginGuard
from idp.accounts.sessions import SessionService, SsoSession
from idp.audit.actors import Actor
from idp.audit.services import record_event
from idp.audit.tags import Tag
from idp.extensions import db


@dataclass(frozen=True)
class SignedIn:
    session: SsoSession
    cookie: str | None  # a new session's cookie value; None when the session continued


class SignIn:
    def __init__(self, sessions: SessionService, guard: LoginGuard) -> None:
        self.sessions = sessions
        self.guard = guard

    def complete(self, user_id: str, factors: list[str], *, current: SsoSession | None,
                 ip: str | None, user_agent: str | None,
                 actor: Actor | None = None) -> SignedIn:
        """`factors` are everything this authentication proved (a login's own, or a step-up's
        together with the session's). The browser's current session continues if it is the
        same person's; another person's is ended first."""
        amr = amr_for(factors)
        self.guard.succeeded("acct:" + user_id)
        cookie = None
        if current is not None and current.user_id == user_id:
            self.sessions.reauthenticated(current, amr)
            session = current
        else:
            if current is not None:
                self.sessions.end(current.sid, actor=Actor.citizen(current.user_id), ip=ip)
            session, cookie = self.sessions.create(user_id, amr, ip=ip, user_agent=user_agent)
        data: dict[str, object] = {"sid": session.sid, "amr": session.amr}
        device = device_label(user_agent)
        if device:  # "Chrome · Windows" for the account page's sign-ins; never the raw string
            data["device"] = device
        record_event(Tag.LOGIN_SUCCESS, actor=actor or Actor.citizen(user_id), user_id=user_id,
                     ip=ip, data=data)
        db.session.flush()
        return SignedIn(session, cookie)
