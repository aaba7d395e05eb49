"""Service-hall names and the activation codes printed for a person, for their copy of their
data (PIPL Art. 45): the accounts layer's `CounterRecords` port. Never a code, never the staff
member who printed it."""

from __future__ import annotations

from sqlalchemy import select

from idp.accounts.personal_data import utc
from idp.accounts.ports import ActivationEntry
from idp.counter.models import ActivationCode, ServiceHall
from idp.extensions import db


class CounterRecordsSource:
    def hall_names(self, codes: list[str]) -> dict[str, str]:
        if not codes:
            return {}
        rows = db.session.execute(select(ServiceHall.code, ServiceHall.name)
                                  .where(ServiceHall.code.in_(codes))).all()
        return {code: name for code, name in rows}

    def activation_codes_of(self, user_id: str) -> list[ActivationEntry]:
        rows = db.session.execute(select(ActivationCode).where(ActivationCode.user_id == user_id)
                                  .order_by(ActivationCode.created_at)).scalars()
        return [ActivationEntry(
            purpose=r.purpose, hall_code=r.hall_code, issued_at=utc(r.created_at),
            expires_at=utc(r.expires_at), used_at=utc(r.used_at), revoked_at=utc(r.revoked_at))
            for r in rows]
