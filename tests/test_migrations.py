"""The migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import flask_migrate
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from hubbub.models import db
from tests.support.apps import build_app, dispose
from tests.support.postgres import WORKER, Postgres


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    postgres: Postgres = request.getfixturevalue("postgres")
    name = f"hubbub_test_migrations_{WORKER}"
    yield postgres.create(name).render_as_string(hide_password=False)
    postgres.drop(name)


def test_upgrade_head_matches_the_models(empty_database_url: str, tmp_path: Path) -> None:
    app = build_app(empty_database_url, tmp_path)
    try:
        with app.app_context():
            flask_migrate.upgrade()
            with db.engine.connect() as conn:
                differences = compare_metadata(MigrationContext.configure(conn), db.metadata)
            assert differences == []
            tables = set(inspect(db.engine).get_table_names())
            assert {t.name for t in db.metadata.sorted_tables} | {"alembic_version"} == tables
    finally:
        dispose(app)


def test_downgrade_to_base_then_upgrade_again(empty_database_url: str, tmp_path: Path) -> None:
    app = build_app(empty_database_url, tmp_path)
    try:
        with app.app_context():
            flask_migrate.upgrade()
            flask_migrate.downgrade(revision="base")
            assert set(inspect(db.engine).get_table_names()) == {"alembic_version"}
            flask_migrate.upgrade()
            assert "users" in inspect(db.engine).get_table_names()
    finally:
        dispose(app)
