"""The migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import flask_migrate
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from hubbub.models import db
from hubbub.services.search import part_of_the_index
from tests.support.apps import build_app, dispose
from tests.support.postgres import WORKER, Postgres

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    postgres: Postgres = request.getfixturevalue("postgres")
    name = f"hubbub_test_migrations_{WORKER}"
    yield postgres.create(name).render_as_string(hide_password=False)
    postgres.drop(name)


def modelled(name: str | None, kind: str, parents: object = None) -> bool:
    """Whether a table or index is one the models describe: all but the search index's, which
    migrations/env.py leaves out of comparisons the same way."""
    return not part_of_the_index(name, kind)


def test_upgrade_head_matches_the_models(empty_database_url: str, tmp_path: Path) -> None:
    app = build_app(empty_database_url, tmp_path)
    try:
        with app.app_context():
            flask_migrate.upgrade()
            with db.engine.connect() as conn:
                context = MigrationContext.configure(conn, opts={"include_name": modelled})
                differences = compare_metadata(context, db.metadata)
            assert differences == []
            tables = {t for t in inspect(db.engine).get_table_names() if modelled(t, "table")}
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


def test_message_html_is_rendered_for_the_messages_already_there(
    empty_database_url: str, tmp_path: Path
) -> None:
    app = build_app(empty_database_url, tmp_path)
    try:
        with app.app_context():
            flask_migrate.upgrade(revision="0006")
            with db.engine.begin() as conn:
                conn.execute(
                    text(
                        "INSERT INTO users (id, username, email, password_hash, is_active,"
                        " created_at) VALUES (1, 'ana', 'ana@example.com', 'x', true, :now)"
                    ),
                    {"now": NOW},
                )
                conn.execute(
                    text(
                        "INSERT INTO conversations (id, kind, created_at, last_activity_at)"
                        " VALUES (1, 'direct', :now, :now)"
                    ),
                    {"now": NOW},
                )
                for message_id, body in [(1, "**bold** <b>"), (2, None)]:
                    conn.execute(
                        text(
                            "INSERT INTO messages (id, conversation_id, sender_id, body,"
                            " created_at) VALUES (:id, 1, 1, :body, :now)"
                        ),
                        {"id": message_id, "body": body, "now": NOW},
                    )
            flask_migrate.upgrade()
            with db.engine.connect() as conn:
                html = dict(conn.execute(text("SELECT id, html FROM messages ORDER BY id")).all())
            assert html == {1: "<p><strong>bold</strong> &lt;b&gt;</p>", 2: None}
    finally:
        dispose(app)
