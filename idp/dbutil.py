"""Statements the two databases spell differently: inserts that tolerate a twin row."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
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


class RawStatement:
    """A Core statement compiled once per dialect and run straight on a pooled DBAPI
    connection: no Session, no Connection wrapper, no compiled-cache lookup. Each of those
    costs CPU on every request (bench/README.md, "below Flask": 0.40 ms against 0.07 ms for the
    UserInfo statement on PostgreSQL). Values are converted by the columns' own bind and result
    processors, as SQLAlchemy would convert them, so a row reads the same either way.

    For the hot paths only (idp/oauth/hotpath.py); everything else uses the session."""

    def __init__(self, statement: Any, columns: tuple[str, ...] = ()) -> None:
        self.statement = statement
        self.columns = columns  # an INSERT's column names (compiled for exactly these)
        # An INSERT's Python-side column defaults (callables such as `_now`, or scalars), which
        # SQLAlchemy would compute at execution: computed here for a column not given.
        table: Any = getattr(statement, "table", None)
        self.defaults = {c.key: c.default for c in table.columns
                         if c.key in columns and c.default is not None and
                         (c.default.is_callable or c.default.is_scalar)} if columns else {}
        self.keys = tuple(c.key for c in getattr(statement, "selected_columns", ()))
        self._compiled: dict[str, tuple[str, tuple[str, ...] | None, dict[str, Any],
                                        list[Any]]] = {}

    def _for(self, dialect: Any) -> tuple[str, tuple[str, ...] | None, dict[str, Any],
                                          list[Any]]:
        found = self._compiled.get(dialect.name)
        if found is None:
            compiled = self.statement.compile(
                dialect=dialect, column_keys=list(self.columns) if self.columns else None)
            order = tuple(compiled.positiontup) if compiled.positional else None
            binds = {name: processor for name, bind in compiled.binds.items()
                     if (processor := bind.type._cached_bind_processor(dialect)) is not None}
            results = [column.type._cached_result_processor(dialect, None)
                       for column in getattr(self.statement, "selected_columns", ())]
            found = (str(compiled), order, binds, results)
            self._compiled[dialect.name] = found
        return found

    def run(self, connection: Any, dialect: Any, params: dict[str, Any]) -> tuple[Any, ...] | None:
        """Execute on the DBAPI `connection`; the first row (converted), or None."""
        return self._execute(connection, dialect, params)[0]

    def mapping(self, connection: Any, dialect: Any,
                params: dict[str, Any]) -> dict[str, Any] | None:
        """The first row by column key (labels included), or None."""
        row = self.run(connection, dialect, params)
        return None if row is None else dict(zip(self.keys, row, strict=True))

    def count(self, connection: Any, dialect: Any, params: dict[str, Any]) -> int:
        """Execute an UPDATE or DELETE; the number of rows it matched."""
        return self._execute(connection, dialect, params)[1]

    def _execute(self, connection: Any, dialect: Any,
                 params: dict[str, Any]) -> tuple[tuple[Any, ...] | None, int]:
        sql, order, binds, results = self._for(dialect)
        for name, default in self.defaults.items():
            if name not in params:
                params = {**params, name: default.arg(None) if default.is_callable
                          else default.arg}
        values = {name: (binds[name](value) if name in binds else value)
                  for name, value in params.items()}
        cursor = connection.cursor()
        try:
            cursor.execute(sql, tuple(values[name] for name in order) if order is not None
                           else values)
            row = cursor.fetchone() if results else None
            rowcount = cursor.rowcount
        finally:
            cursor.close()
        if row is None:
            return None, rowcount
        return tuple(processor(value) if processor is not None else value
                     for processor, value in zip(results, row, strict=True)), rowcount


@contextlib.contextmanager
def raw_connection(engine: Any, autocommit: bool = True) -> Iterator[Any]:
    """A pooled DBAPI connection for `RawStatement`s. With `autocommit`, each statement commits
    on its own (PostgreSQL: autocommit mode; SQLite: the caller commits its one write); else
    the statements form one transaction, which the caller commits, and which is rolled back if
    it has not when the block ends. The connection goes back to the pool as it came; after any
    error it is discarded instead, in case it was the connection that failed."""
    proxy = engine.raw_connection()
    connection = proxy.driver_connection
    postgres = engine.dialect.name == "postgresql"
    try:
        if postgres and autocommit:
            connection.autocommit = True
        yield connection
    except BaseException:
        proxy.invalidate()
        raise
    try:  # the block's work is done: a failure to tidy up is the connection's, not its own
        connection.rollback()  # nothing if the caller committed
        if postgres and autocommit:
            connection.autocommit = False
    except Exception:  # noqa: BLE001 - closing it ends whatever the server still holds
        proxy.invalidate()
        return
    proxy.close()
