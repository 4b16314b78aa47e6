"""Fixtures: an app on a clean SQLite or PostgreSQL database per test, clients and factories.

The fixtures built on these (people, streams, buses, server settings) are in
tests/support/fixtures.py.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from werkzeug.serving import make_server

from hubbub.extensions import limiter
from hubbub.models import User, db
from hubbub.services import accounts
from tests.support import PASSWORD
from tests.support.apps import build_app, dispose, migrate_to_head
from tests.support.postgres import WORKER, Postgres
from tests.support.processes import Processes, processes_fixture

pytest_plugins = ["tests.support.fixtures", "tests.support.objects"]


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    server = Postgres()
    yield server
    server.admin.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("sqlite-template")
    path = folder / "hubbub.db"
    migrate_to_head(f"sqlite:///{path}", folder)
    return path


@pytest.fixture(scope="session")
def postgres_migrated(
    postgres: Postgres, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    name = f"hubbub_test_{WORKER}"
    url = postgres.create(name).render_as_string(hide_password=False)
    migrate_to_head(url, tmp_path_factory.mktemp("pg-instance"))
    yield url
    postgres.drop(name)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated database with no rows, on each engine in turn."""
    if request.param == "sqlite":
        path = tmp_path / "hubbub.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("postgres_migrated")
    engine = create_engine(url)
    with engine.begin() as conn:
        tables = ", ".join(t.name for t in db.metadata.sorted_tables if t.name != "event_counter")
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        conn.execute(text("UPDATE event_counter SET last_id = 0, pruned_through = 0"))
    engine.dispose()
    return url


@pytest.fixture
def postgres_url(database_url: str) -> str:
    """This test's database, for tests of several server processes: they share one log, which
    needs PostgreSQL (the SQLite run of such a test is skipped)."""
    if not database_url.startswith("postgresql"):
        pytest.skip("server processes share one log, which needs PostgreSQL")
    return database_url


@pytest.fixture
def make_app(database_url: str, tmp_path: Path) -> Iterator[Callable[..., Flask]]:
    """Build apps on this test's database, with config overrides; all are disposed after."""
    apps: list[Flask] = []

    def factory(**overrides: Any) -> Flask:
        app = build_app(database_url, tmp_path / "instance", **overrides)
        if app.config["RATELIMIT_ENABLED"]:
            with app.app_context():
                limiter.reset()
        apps.append(app)
        return app

    yield factory
    for app in apps:
        dispose(app)


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    return make_app()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def make_user(app: Flask) -> Callable[..., User]:
    """Register a user through the service; the password is tests.support.PASSWORD."""

    def factory(username: str = "ana", email: str | None = None, password: str = PASSWORD) -> User:
        with app.app_context():
            user = accounts.register_user(username, email or f"{username}@example.com", password)
            db.session.refresh(user)
            db.session.expunge(user)
            return user

    return factory


@pytest.fixture
def serve() -> Iterator[Callable[[Flask], str]]:
    """Serve apps on free local ports in background threads (HTTP and WebSocket)."""
    servers = []

    def start(app: Flask) -> str:
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
        thread.start()
        servers.append((server, thread))
        return f"http://127.0.0.1:{server.server_port}"

    yield start
    for server, thread in servers:
        server.shutdown()
        thread.join()
        server.server_close()


@pytest.fixture
def live_server(make_app: Callable[..., Flask], serve: Callable[[Flask], str]) -> str:
    """This test's app, served on a free local port; its base URL."""
    return serve(make_app())


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[Processes]:
    """Server processes (gunicorn, Redis) a test starts; all stopped after it, by their PIDs."""
    yield from processes_fixture(tmp_path / "processes")
