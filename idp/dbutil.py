"""Statements the two databases spell differently: inserts that tolerate a twin row."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite

from idp.extensions import db


def dialect_insert(model: Any) -> Any:
    """INSERT with PostgreSQL's or SQLite's ON CONFLICT clauses available."""
    name = db.session.get_bind().dialect.name
    return (postgresql if name == "postgresql" else sqlite).insert(model)


def insert_ignoring_duplicates(model: Any, unique: list[str], **values: Any) -> None:
    """Insert a row unless one with the same `unique` columns exists (atomic; a racing twin
    request inserts nothing and fails nothing)."""
    db.session.execute(dialect_insert(model).values(**values)
                       .on_conflict_do_nothing(index_elements=unique))


def upsert(model: Any, unique: list[str], values: dict[str, Any],
           update: dict[str, Any]) -> None:
    """Insert, or update `update` on the row that has the same `unique` columns (atomic)."""
    db.session.execute(dialect_insert(model).values(**values)
                       .on_conflict_do_update(index_elements=unique, set_=update))


def autocommit_unit() -> None:
    """Run the rest of this request's statements in autocommit mode: each commits on its own
    in one round trip, with no BEGIN and no COMMIT around it (bench/README.md, "round trips").

    Only for a request whose unit of work is reads plus at most one write (a client_credentials
    token and its issuance record; userinfo; introspection): with two writes, one could land
    without the other. Does nothing once the session has begun a transaction."""
    session = db.session()
    if not session.in_transaction():
        session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
