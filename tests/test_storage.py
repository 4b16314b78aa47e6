"""The database connection settings: SQLite pragmas on every connection, foreign keys enforced."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from hubbub.models import ApiToken, User, db
from tests.support import count


@pytest.fixture
def sqlite_app(database_url: str, make_app: Callable[..., Flask]) -> Flask:
    if not database_url.startswith("sqlite"):
        pytest.skip("SQLite pragmas only")
    return make_app()


def _pragma(name: str) -> object:
    with db.engine.connect() as conn:
        return conn.execute(text(f"PRAGMA {name}")).scalar()


def test_sqlite_uses_write_ahead_logging(sqlite_app: Flask) -> None:
    with sqlite_app.app_context():
        assert str(_pragma("journal_mode")).lower() == "wal"


def test_sqlite_enforces_foreign_keys(sqlite_app: Flask) -> None:
    with sqlite_app.app_context():
        assert _pragma("foreign_keys") == 1


def test_sqlite_waits_for_locks_instead_of_failing(sqlite_app: Flask) -> None:
    with sqlite_app.app_context():
        assert _pragma("busy_timeout") == 5000


def test_every_sqlite_connection_gets_the_pragmas(sqlite_app: Flask) -> None:
    with sqlite_app.app_context():
        pool_size = 3
        connections = [db.engine.connect() for _ in range(pool_size)]
        try:
            for conn in connections:
                assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
                assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 5000
                assert str(conn.execute(text("PRAGMA journal_mode")).scalar()).lower() == "wal"
        finally:
            for conn in connections:
                conn.close()


def test_a_token_for_a_missing_user_is_refused(app: Flask) -> None:
    with app.app_context():
        db.session.add(ApiToken(user_id=424242, name="orphan", token_hash="0" * 64))
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()
    assert count(app, ApiToken) == 0
    assert count(app, User) == 0
