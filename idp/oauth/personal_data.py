"""Every authorisation a person gave business systems, for their copy of their data (PIPL
Art. 45): the accounts layer's `AuthorizationHistory` port. Scopes, levels, dates and how many
tokens were issued; never a token, a code or a session id."""

from __future__ import annotations

from sqlalchemy import func, select

from idp.accounts.ports import GrantEntry
from idp.extensions import db
from idp.oauth.models import Client, Grant, TokenIssued, aware


class AuthorizationHistorySource:
    def grants_of(self, user_id: str) -> list[GrantEntry]:
        tokens = (select(TokenIssued.grant_id, func.count().label("n"),
                         func.max(TokenIssued.issued_at).label("last"))
                  .where(TokenIssued.user_id == user_id).group_by(TokenIssued.grant_id)
                  .subquery())
        rows = db.session.execute(
            select(Grant, Client.name, tokens.c.n, tokens.c.last)
            .outerjoin(Client, Client.client_id == Grant.client_id)
            .outerjoin(tokens, tokens.c.grant_id == Grant.id)
            .where(Grant.user_id == user_id)
            .order_by(Grant.created_at, Grant.id)).all()
        return [GrantEntry(
            client_id=g.client_id, name=name or g.client_id, scopes=g.scope.split(),
            granted_at=aware(g.created_at),
            revoked_at=aware(g.revoked_at) if g.revoked_at else None, acr=g.acr,
            amr=list(g.amr or []), tokens_issued=int(n or 0),
            last_token_at=aware(last) if last else None) for g, name, n, last in rows]
