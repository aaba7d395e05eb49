"""Framework extensions, created unbound here and bound to the app in create_app."""

from __future__ import annotations

from typing import cast

from flask import Flask, current_app
from flask_babel import Babel
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy.orm import DeclarativeBase

from idp.settings import Settings
from idp.store import Store


class Base(DeclarativeBase):
    pass


# Objects stay readable after commit: a request reads what it just wrote without a reload.
db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})
migrate = Migrate()
csrf = CSRFProtect()
babel = Babel()


def get_store(app: Flask | None = None) -> Store:
    return cast(Store, (app or current_app).extensions["idp.store"])


def get_settings(app: Flask | None = None) -> Settings:
    return cast(Settings, (app or current_app).extensions["idp.settings"])
