"""The one check every staff request passes, for the workbench and the operators' console
alike: a live session, an account still enabled, enrolled, of an allowed role, at the same
hall and role as when it signed in, not signed out since, and a client address inside the
hall's allow-list (an address outside it ends the session)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from idp.counter.models import ServiceHall, StaffAccount
from idp.counter.services import StaffService, ip_allowed
from idp.counter.sessions import StaffSession, StaffSessions


@dataclass(frozen=True)
class Admission:
    """`outcome`: admitted; no_session (none, or it timed out); ended (the account changed,
    or signed out since); network (outside the hall's allow-list)."""

    outcome: str
    session: StaffSession | None = None
    member: StaffAccount | None = None
    hall: ServiceHall | None = None


def admit(sessions: StaffSessions, staff: StaffService, token: str | None, ip: str | None,
          path: str, roles: Collection[str] | None = None) -> Admission:
    live = sessions.load(token)
    if live is None:
        return Admission("no_session")
    member = staff.get(live.staff_id)
    signed_out = member is not None and member.sessions_valid_after is not None and \
        live.created < member.sessions_valid_after
    if member is None or member.disabled or not member.enrolled or signed_out or \
            (roles is not None and member.role not in roles) or \
            (member.hall_code, member.role) != (live.hall, live.role):
        sessions.end(live)
        return Admission("ended", live, member)
    hall = staff.hall(member.hall_code)
    if not ip_allowed(hall, ip):
        staff.ip_refused(member, ip, path)
        sessions.end(live)
        return Admission("network", live, member, hall)
    return Admission("admitted", live, member, hall)
