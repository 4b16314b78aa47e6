"""Apps on a test's database: built with the tests' configuration, migrated, and disposed of."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import flask_migrate
from flask import Flask

from hubbub import create_app
from hubbub.models import db
from hubbub.realtime.live import live_of
from tests.support import TEST_CONFIG


def build_app(database_url: str, instance: Path, **overrides: Any) -> Flask:
    os.environ["HUBBUB_INSTANCE_PATH"] = str(instance)
    return create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": database_url, **overrides})


def migrate_to_head(database_url: str, instance: Path) -> None:
    app = build_app(database_url, instance)
    with app.app_context():
        flask_migrate.upgrade()
        db.engine.dispose()


def dispose(app: Flask) -> None:
    live_of(app).stop()
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
