"""The Alembic migrations, run from an empty database, build exactly the models' schema."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from idp.extensions import db


def test_migrations_from_empty_database_match_the_models(app):
    # the session fixture dropped every table and ran `upgrade()` on the empty database
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = compare_metadata(context, db.metadata)
    assert diff == []


def test_migrations_are_at_the_single_head(app):
    from alembic.script import ScriptDirectory
    from flask_migrate import Config

    from idp import MIGRATIONS_DIR

    config = Config()
    config.set_main_option("script_location", MIGRATIONS_DIR)
    heads = ScriptDirectory.from_config(config).get_heads()
    with db.engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_heads()
    assert len(heads) == 1 and set(current) == set(heads)
