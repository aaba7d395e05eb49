"""The counter-staff workbench (实名核验窗口): staff accounts bound to service halls, in-person
verification, assisted registration, in-person recovery, and the supervisors' report and case
queue. `init_counter(app)` wires it; `create_app` calls it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from flask import Flask, current_app

if TYPE_CHECKING:
    from idp.counter.activation import ActivationCodes
    from idp.counter.assisted import AssistedService
    from idp.counter.desk import CounterDesk
    from idp.counter.services import StaffService
    from idp.counter.sessions import StaffSessions


@dataclass(frozen=True)
class Counter:
    staff: StaffService
    sessions: StaffSessions
    desk: CounterDesk
    codes: ActivationCodes
    assisted: AssistedService


def counter(app: Flask | None = None) -> Counter:
    return cast(Counter, (app or current_app).extensions["idp.counter"])


def init_counter(app: Flask) -> None:
    """Build the counter services from what create_app wired, and register the pages."""
    from idp.counter import models  # noqa: F401 - the tables join the metadata
    from idp.counter.activation import ActivationCodes
    from idp.counter.assisted import AssistedService
    from idp.counter.desk import CounterDesk
    from idp.counter.services import StaffService
    from idp.counter.sessions import StaffSessions
    from idp.counter.views import activation_bp, bp
    from idp.security.crypto import KeyedHash

    settings = app.extensions["idp.settings"]
    secret = settings.lookup_pepper or settings.secret_key
    keyring, store, clock = (app.extensions["idp.keyring"], app.extensions["idp.store"],
                             app.extensions["idp.clock"])
    accounts, identity = app.extensions["idp.accounts"], app.extensions["idp.identity"]
    staff = StaffService(accounts.passwords, accounts.guard, keyring.box("staff-totp"),
                         keyring.box("staff-totp-enrolment"),
                         KeyedHash(secret, "staff-enrolment"), clock, identity,
                         enrolment_ttl=settings.staff_enrolment_ttl)
    sessions = StaffSessions(store, KeyedHash(secret, "staff-session"), clock,
                             idle_ttl=settings.staff_idle_ttl, max_ttl=settings.staff_max_ttl)
    desk = CounterDesk(accounts, identity, app.extensions["idp.mfa"], clock)
    codes = ActivationCodes(accounts, KeyedHash(secret, "activation-code"), store,
                            keyring.box("activation-slip"), clock,
                            ttl=settings.activation_code_ttl)
    assisted = AssistedService(accounts, app.extensions["idp.mfa"],
                               app.extensions["idp.sessions"], desk, codes)
    app.extensions["idp.counter"] = Counter(staff, sessions, desk, codes, assisted)
    app.extensions["idp.counter_halls"] = halls_near
    app.register_blueprint(bp)
    app.register_blueprint(activation_bp)


@dataclass(frozen=True)
class HallListing:
    name: str
    region: str | None


def halls_near(region_code: str | None) -> list[HallListing]:
    """Service halls for the verification page, those of the person's own county, then city,
    then province first (by the division code their ID number was issued under)."""
    from sqlalchemy import select

    from idp.counter.models import ServiceHall
    from idp.extensions import db
    from realname.documents import division

    halls = db.session.execute(select(ServiceHall).order_by(ServiceHall.code)).scalars().all()

    def closeness(hall: ServiceHall) -> int:
        for digits in (6, 4, 2):
            if region_code and hall.division_code[:digits] == region_code[:digits]:
                return 6 - digits
        return 6

    listed = sorted(halls, key=closeness)
    return [HallListing(h.name, (found.name if (found := division(h.division_code)) else None))
            for h in listed]
