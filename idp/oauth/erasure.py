"""What the OAuth layer erases when a deleted account is purged (accounts.lifecycle)."""

from __future__ import annotations

from sqlalchemy import delete

from idp.extensions import db
from idp.oauth.models import Consent
from idp.oauth.services import GrantService


class OAuthErasure:
    """Registered as a purge eraser: the person's consents are removed and every grant is
    revoked (already revoked when the deletion was requested; again in case one was made
    meanwhile). Grant rows stay until `idp tokens purge` removes them with the other dead
    grants: they hold no personal data, and a revoked grant keeps refusing the access tokens
    issued from it until they expire. Flushes; the purge commits."""

    def __init__(self, grants: GrantService) -> None:
        self.grants = grants

    def __call__(self, user_id: str) -> None:
        db.session.execute(delete(Consent).where(Consent.user_id == user_id))
        self.grants.revoke_all(user_id)
        db.session.flush()
