"""Key rotation for values sealed at rest: re-seal every value not sealed with the keyring's
active key, in committed batches (safe to interrupt and to run again; `idp keys reseal`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from idp.accounts.models import User
from idp.extensions import db
from idp.identity.models import IdentityCase
from idp.oauth.models import SigningKey
from idp.security.crypto import Keyring

# (what, model, key column, sealed column, purpose): every column holding a sealed value.
SEALED: list[tuple[str, Any, Any, Any, str]] = [
    ("ID numbers", User, User.id, User.id_number_sealed, "id-number"),
    ("authenticator secrets", User, User.id, User.totp_secret_sealed, "totp"),
    ("disputed document numbers", IdentityCase, IdentityCase.id, IdentityCase.sealed_number,
     "id-number"),
    ("signing keys", SigningKey, SigningKey.kid, SigningKey.private_sealed, "signing-key"),
]


def reseal(keyring: Keyring, batch: int = 500,
           progress: Callable[[str, int], None] | None = None) -> dict[str, int]:
    done: dict[str, int] = {}
    for what, model, key, column, purpose in SEALED:
        box = keyring.box(purpose)
        stale = column.is_not(None) & ~column.startswith(f"v2.{keyring.active}.")
        total = 0
        while True:
            rows = db.session.execute(select(model).where(stale).order_by(key)
                                      .limit(batch)).scalars().all()
            if not rows:
                break
            for row in rows:
                value = getattr(row, column.key)
                setattr(row, column.key, box.seal(box.open(value)))
            db.session.commit()
            total += len(rows)
            if progress:
                progress(what, total)
        done[what] = total
    return done
