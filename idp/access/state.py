"""The access state row: the catalogue version every write draws afresh (so figures computed
from an unchanged catalogue are reused) and the rollup mark, locked while a rollup runs."""

from __future__ import annotations

import secrets

from sqlalchemy import select, update

from idp.access.models import AccessState
from idp.dbutil import insert_ignoring_duplicates
from idp.extensions import db


def _ensure() -> None:
    insert_ignoring_duplicates(AccessState, ["id"], id=1, version=secrets.token_hex(16))


def bump() -> None:
    """Record, in the caller's transaction, that the catalogue or the systems changed."""
    _ensure()
    db.session.execute(update(AccessState).where(AccessState.id == 1)
                       .values(version=secrets.token_hex(16)))


def stamp() -> str | None:
    """The catalogue version now; None before anything was ever written."""
    return db.session.execute(select(AccessState.version).where(AccessState.id == 1)
                              ).scalar_one_or_none()


def locked() -> AccessState:
    """The row, locked until the transaction ends: rollups run one at a time (on SQLite the
    insert takes the database's write lock, which serialises them the same way)."""
    _ensure()
    return db.session.execute(select(AccessState).where(AccessState.id == 1)
                              .with_for_update()).scalar_one()


def read() -> AccessState | None:
    return db.session.get(AccessState, 1)
