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
