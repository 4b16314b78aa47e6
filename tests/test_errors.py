"""An unexpected error answers a plain 500 that gives nothing away; secrets never reach the logs."""

from __future__ import annotations

import json
import logging
import os
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from http.cookiejar import CookieJar
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus, urlencode

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import InternalServerError

from hubbub import create_app
from hubbub.models import User
from hubbub.services import conversations
from tests.support import CSRF_INPUT, PASSWORD, bearer, login
from tests.support.apps import build_app, dispose
from tests.support.processes import free_port
from tests.support.streams import connect, wait_for_request_threads


def test_a_database_that_does_not_answer_gives_a_503_to_retry(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """PostgreSQL down: a clear 503 with Retry-After (JSON for the API, a page for the web)."""
    nobody = f"postgresql://postgres@127.0.0.1:{free_port()}/hubbub?connect_timeout=2"
    app = build_app(nobody, tmp_path)
    try:
        client = app.test_client()
        api = client.get("/api/v1/conversations", headers=bearer("hb_not-checked"))
        assert api.status_code == 503, api.get_data(as_text=True)
        assert api.get_json()["error"]["code"] == "unavailable"
        assert "Try again" in api.get_json()["error"]["message"]
        assert api.headers["Retry-After"] == "5"
        assert_tells_nothing(api.get_data(as_text=True).replace("OperationalError", ""))
        client.set_cookie("hubbub_session", "a-session-id-nobody-can-look-up")
        page = client.get("/dashboard")
        assert page.status_code == 503
        assert page.mimetype == "text/html"
        assert "Try again in a few seconds." in page.get_data(as_text=True)
        assert [r.levelname for r in caplog.records if r.name == "hubbub.errors"] == ["WARNING"] * 2
    finally:
        dispose(app)


# What the failures below carry, none of which may reach an answer.
EXCEPTION_TEXT = "boom SELECT secret FROM users WHERE password = 'hunter2'"
LEAKS = [
    "Traceback",
    'File "',
    "SELECT",
    "boom",
    "secret",
    "hunter2",
    "RuntimeError",
    "OperationalError",
    "sqlalchemy",
    "site-packages",
    EXCEPTION_TEXT,
]
GENERIC = InternalServerError.description


def runtime_error() -> Exception:
    return RuntimeError(EXCEPTION_TEXT)


def database_error() -> Exception:
    # What a failed query raises: its text holds the SQL and its parameters.
    return OperationalError(EXCEPTION_TEXT, {"password": "hunter2"}, RuntimeError("boom"))


FAILURES = [pytest.param(runtime_error, id="runtime"), pytest.param(database_error, id="database")]


def failing(make_error: Callable[[], Exception]) -> Callable[..., Any]:
    def view(*_args: Any, **_kwargs: Any) -> Any:
        raise make_error()

    return view


def add_failing_routes(app: Flask, make_error: Callable[[], Exception]) -> None:
    """A page and an API path that raise; added before the app's first request."""
    app.add_url_rule("/boom", "boom_page", failing(make_error))
    app.add_url_rule("/api/v1/boom", "boom_api", failing(make_error))


def assert_tells_nothing(text: str) -> None:
    for leak in LEAKS:
        assert leak not in text, f"the 500 answer gives away {leak!r}:\n{text[:2000]}"


def assert_generic_json_500(response: Any) -> None:
    assert response.status_code == 500
    assert response.is_json, response.get_data(as_text=True)[:500]
    assert response.get_json() == {"error": {"code": "internal_error", "message": GENERIC}}
    assert_tells_nothing(response.get_data(as_text=True))
    assert "no-store" in response.headers.get("Cache-Control", "")
    assert "script-src 'self'" in response.headers.get("Content-Security-Policy", "")


def assert_generic_html_500(response: Any) -> None:
    assert response.status_code == 500
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert "<h1>Something went wrong</h1>" in page
    assert GENERIC in page
    assert_tells_nothing(page)
    assert "script-src 'self'" in response.headers.get("Content-Security-Policy", "")


def logged_failures(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "hubbub.errors" and r.exc_info]


@pytest.mark.parametrize("make_error", FAILURES)
def test_an_unexpected_error_answers_a_generic_500(
    make_app: Callable[..., Flask],
    make_error: Callable[[], Exception],
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = make_app()
    add_failing_routes(app, make_error)
    client = app.test_client()
    assert_generic_json_500(client.get("/api/v1/boom"))
    assert_generic_html_500(client.get("/boom"))
    # The details are for the operator: in the log, with the traceback, and nowhere else.
    failures = logged_failures(caplog)
    assert len(failures) == 2
    assert all(str(r.exc_info[1]) == str(make_error()) for r in failures if r.exc_info)


@pytest.mark.parametrize("make_error", FAILURES)
def test_a_failing_service_answers_a_generic_500(
    app: Flask,
    client: FlaskClient,
    make_user: Callable[..., User],
    make_error: Callable[[], Exception],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The real views, their service failing under them: a logged-in page and API call."""
    make_user("ana")
    assert login(client, "ana").status_code == 302
    monkeypatch.setattr(conversations, "list_conversations", failing(make_error))
    monkeypatch.setattr(conversations, "access_conversation", failing(make_error))
    assert_generic_json_500(client.get("/api/v1/conversations"))
    assert_generic_json_500(client.get("/api/v1/conversations/1"))
    assert_generic_html_500(client.get("/c/1"))
    # Token callers get the same answer as the browser.
    script = app.test_client()
    token = script.post("/api/v1/tokens", json={"login": "ana", "password": PASSWORD})
    assert token.status_code == 201, token.get_data(as_text=True)
    headers = bearer(token.get_json()["token"])
    assert_generic_json_500(script.get("/api/v1/conversations", headers=headers))


@pytest.fixture
def bare_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No HUBBUB_* or FLASK_* settings at all, as on a fresh machine; an empty instance folder."""
    for name in list(os.environ):
        if name.startswith(("HUBBUB_", "FLASK_")):
            monkeypatch.delenv(name)
    instance = tmp_path / "instance"
    monkeypatch.setenv("HUBBUB_INSTANCE_PATH", str(instance))
    return instance


def test_debug_is_off_by_default(bare_environment: Path) -> None:
    app = create_app()
    try:
        assert app.debug is False
        assert app.testing is False
        assert app.config["PROPAGATE_EXCEPTIONS"] is None
        assert app.config["TRAP_HTTP_EXCEPTIONS"] is False
        assert app.config["EXPLAIN_TEMPLATE_LOADING"] is False
    finally:
        dispose(app)


@pytest.mark.parametrize("make_error", FAILURES)
@pytest.mark.parametrize(
    "config",
    [
        pytest.param(None, id="defaults"),
        pytest.param({"PROPAGATE_EXCEPTIONS": True}, id="propagating"),
        pytest.param({"TESTING": True}, id="testing"),
    ],
)
def test_no_configuration_lets_the_exception_through(
    bare_environment: Path,
    config: dict[str, Any] | None,
    make_error: Callable[[], Exception],
) -> None:
    """Even an app told to propagate exceptions answers the generic 500: the app's own handler
    catches every exception first, so neither the test client nor a WSGI server sees it."""
    app = create_app(config)
    try:
        add_failing_routes(app, make_error)
        client = app.test_client()
        assert_generic_json_500(client.get("/api/v1/boom"))
        assert_generic_html_500(client.get("/boom"))
    finally:
        dispose(app)


# ---- secrets in the logs ---------------------------------------------------------------------

FIRST_PASSWORD = "Velvet-Plum-Ocean-4471"
WRONG_PASSWORD = "Tangerine-Guess-8820-Wrong"
NEW_PASSWORD = "Granite-Lantern-Mosaic-5519"


class Visitor:
    """A person's browser, in short: cookies, forms with their CSRF token, JSON calls."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.cookies = CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies))

    def open(
        self, path: str, data: bytes | None = None, headers: dict[str, str] | None = None
    ) -> tuple[int, str]:
        url = self.base + path
        request = urllib.request.Request(url, data, headers or {})  # noqa: S310 - local http
        try:
            with self.opener.open(request, timeout=30) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            with error:
                return error.code, error.read().decode()

    def form(self, path: str, fields: dict[str, str], shown_on: str | None = None) -> int:
        """Submit the form at path (found on the page shown_on); the final answer's status."""
        status, page = self.open(shown_on or path)
        assert status == 200, page[:500]
        match = CSRF_INPUT.search(page)
        assert match, f"no CSRF token on {shown_on or path}"
        body = urlencode({"csrf_token": match.group(1), **fields}).encode()
        return self.open(path, body, {"Content-Type": "application/x-www-form-urlencoded"})[0]

    def json(self, method: str, path: str, body: Any = None, token: str | None = None) -> Any:
        headers = {"Content-Type": "application/json", **(bearer(token) if token else {})}
        data = None if body is None else json.dumps(body).encode()
        url = self.base + path
        request = urllib.request.Request(url, data, headers, method=method)  # noqa: S310 - local http
        try:
            with self.opener.open(request, timeout=30) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            with error:
                return error.code, json.loads(error.read() or b"null")

    def cookie_values(self) -> list[str]:
        return [cookie.value for cookie in self.cookies if cookie.value]


@pytest.fixture
def all_logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Every logger at DEBUG, werkzeug's and SQLAlchemy's included, all reaching caplog."""
    caplog.set_level(logging.DEBUG)
    names = ["werkzeug", "sqlalchemy", "sqlalchemy.engine", "sqlalchemy.pool", "flask_limiter"]
    for name in [*names, *logging.root.manager.loggerDict]:
        caplog.set_level(logging.DEBUG, logger=name)
    with pytest.MonkeyPatch.context() as patch:
        for name in list(logging.root.manager.loggerDict):
            logger = logging.getLogger(name)
            if not logger.propagate:
                patch.setattr(logger, "propagate", True)
        yield caplog


def everything_in(record: logging.LogRecord) -> str:
    """A record's message, arguments, traceback and extra fields, as text."""
    parts = [record.getMessage(), repr(record.msg), repr(record.args), repr(vars(record))]
    if record.exc_info:
        parts.append(logging.Formatter().formatException(record.exc_info))
    if record.stack_info:
        parts.append(record.stack_info)
    return "\n".join(parts)


def forms_of(secret: str) -> set[str]:
    """A secret as it could be written: as is, URL-encoded, JSON-escaped."""
    return {secret, quote(secret), quote_plus(secret), json.dumps(secret)[1:-1]}


def test_passwords_and_tokens_never_reach_the_logs(
    make_app: Callable[..., Flask],
    serve: Callable[[Flask], str],
    all_logs: pytest.LogCaptureFixture,
) -> None:
    # The real server (werkzeug logs each request) with the rate limiter on, as in production.
    app = make_app(
        RATELIMIT_ENABLED=True,
        HUBBUB_LOGIN_LIMIT_ACCOUNT="100 per minute",
        HUBBUB_LOGIN_LIMIT_IP="100 per minute",
        HUBBUB_REGISTER_LIMIT_IP="100 per minute",
    )
    base = serve(app)
    dora = Visitor(base)
    register = {"username": "dora", "email": "dora@example.com"}
    passwords = {"password": FIRST_PASSWORD, "confirm": FIRST_PASSWORD}
    assert dora.form("/register", {**register, **passwords}) == 200  # on the dashboard
    cookies = dora.cookie_values()
    assert dora.form("/logout", {}, shown_on="/dashboard") == 200
    assert dora.form("/login", {"login": "dora", "password": WRONG_PASSWORD}) == 401
    assert dora.form("/login", {"login": "dora", "password": FIRST_PASSWORD}) == 200
    cookies += dora.cookie_values()

    # A script without cookies gets a token with the password, then uses it.
    script = Visitor(base)
    status, _ = script.json("POST", "/api/v1/tokens", {"login": "dora", "password": WRONG_PASSWORD})
    assert status == 401
    status, made = script.json(
        "POST", "/api/v1/tokens", {"login": "dora", "password": FIRST_PASSWORD, "name": "cli"}
    )
    assert status == 201, made
    token = made["token"]
    status, me = script.json("GET", "/api/v1/me", token=token)
    assert status == 200 and me["user"]["username"] == "dora"
    assert script.json("GET", "/api/v1/me", token=token + "x")[0] == 401
    stream = connect(base, token=token)
    assert json.loads(stream.recv())["type"] == "ready"
    stream.close()

    change = {"current_password": FIRST_PASSWORD, "new_password": NEW_PASSWORD}
    assert dora.form("/settings/password", {**change, "confirm": NEW_PASSWORD}) == 200
    cookies += dora.cookie_values()
    status, made = script.json(
        "POST", "/api/v1/tokens", {"login": "dora", "password": NEW_PASSWORD}
    )
    assert status == 201, made
    wait_for_request_threads()

    records = all_logs.records
    # The capture saw the traffic: the server's request lines and the SQL that was run.
    lines = [r.getMessage() for r in records if r.name == "werkzeug"]
    assert any("POST /login" in line and " 401 " in line for line in lines), lines[:20]
    assert any("GET /api/v1/stream" in line for line in lines), lines[:20]
    assert any(r.name.startswith("sqlalchemy.engine") for r in records), "no SQL was logged"

    secrets = {
        "the first password": FIRST_PASSWORD,
        "a wrong password": WRONG_PASSWORD,
        "the new password": NEW_PASSWORD,
        "an API token": token,
        "another API token": made["token"],
        **{f"session cookie {n}": value for n, value in enumerate(cookies)},
    }
    leaks = [
        f"{what} in a {record.name} record: {record.getMessage()[:300]}"
        for record in records
        for what, secret in secrets.items()
        if any(form in everything_in(record) for form in forms_of(secret))
    ]
    assert leaks == [], "secrets reached the logs:\n" + "\n".join(leaks)
