"""Hubbub: a self-hosted chat server and web app."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import event
from werkzeug.middleware.proxy_fix import ProxyFix

from hubbub import config as settings
from hubbub import ids
from hubbub.extensions import csrf, db, limiter, login_manager, migrate
from hubbub.sessions import DatabaseSessionInterface, raise_if_unavailable

MIGRATIONS = Path(__file__).parent / "migrations"


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app from the environment, then from `config` (which tests use).

    A setting that cannot work stops the start with one line naming it, and exit status 4:
    gunicorn's code for an application that failed to load, so it stops instead of starting
    workers again and again.
    """
    try:
        return _build(config)
    except settings.ConfigError as error:
        print(f"Hubbub cannot start: {error}", file=sys.stderr)
        raise SystemExit(4) from None


def _build(config: Mapping[str, Any] | None) -> Flask:
    instance_path = Path(os.environ.get("HUBBUB_INSTANCE_PATH", Path.cwd() / "instance"))
    app = Flask(__name__, instance_path=str(instance_path.resolve()))
    app.config.update(settings.DEFAULTS)
    app.config.update(settings.from_env(os.environ, Path(app.instance_path)))
    app.config.update(config or {})
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    if app.config["HUBBUB_PROXY_COUNT"]:
        count = app.config["HUBBUB_PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)  # type: ignore[method-assign]

    db.init_app(app)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            event.listen(db.engine, "connect", _sqlite_pragmas)
    migrate.init_app(app, db, directory=str(MIGRATIONS))
    login_manager.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    app.session_interface = DatabaseSessionInterface()
    # Before every other hook, CSRF's included: they read the session.
    app.before_request_funcs.setdefault(None, []).insert(0, raise_if_unavailable)

    from hubbub import api, auth, cli, errors, files, security, web
    from hubbub.api.live import sock
    from hubbub.events import bus
    from hubbub.realtime import live

    files.init_app(app)
    bus.init_app(app)
    live.init_app(app)
    sock.init_app(app)
    ids.init_app(app)
    app.register_blueprint(web.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(api.bp)
    errors.register(app)
    security.register(app)
    cli.register(app)
    return app


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
