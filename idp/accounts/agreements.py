"""Which versions of the 用户服务协议 and 隐私政策 a person accepted, and asking again."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select

from idp.accounts.models import AgreementAcceptance
from idp.audit.actors import Actor
from idp.audit.services import record_event
from idp.audit.tags import Tag
from idp.extensions import db


class AgreementService:
    """`versions` is what is in force ({"terms": "2026-11-01", "privacy": …}: idp.branding)."""

    def __init__(self, versions: Mapping[str, str]) -> None:
        self.versions = dict(versions)

    def missing(self, user_id: str) -> list[str]:
        """The documents whose version in force this person has not accepted, in order."""
        accepted = {tuple(row) for row in db.session.execute(
            select(AgreementAcceptance.document, AgreementAcceptance.version)
            .where(AgreementAcceptance.user_id == user_id))}
        return [key for key, version in self.versions.items() if (key, version) not in accepted]

    def accept(self, user_id: str, ip: str | None) -> list[str]:
        """Record acceptance of every version in force not yet accepted (the caller commits);
        returns the documents recorded. Accepting twice records nothing more."""
        recorded = self.missing(user_id)
        for key in recorded:
            db.session.add(AgreementAcceptance(user_id=user_id, document=key,
                                               version=self.versions[key]))
        if recorded:
            record_event(Tag.AGREEMENTS_ACCEPTED, actor=Actor.citizen(user_id), user_id=user_id,
                         ip=ip, data={key: self.versions[key] for key in recorded})
        db.session.flush()
        return recorded

    def history(self, user_id: str) -> list[AgreementAcceptance]:
        return list(db.session.execute(
            select(AgreementAcceptance).where(AgreementAcceptance.user_id == user_id)
            .order_by(AgreementAcceptance.accepted_at)).scalars())
