"""Rate limits on failed logins (per account and per IP) and on registration (per IP)."""

from __future__ import annotations

import fcntl
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, cast

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from hubbub.models import User, db
from hubbub.services import accounts
from tests.support import (
    CSRF_INPUT,
    PASSWORD,
    REDIS_URL,
    count,
    login,
    register,
    unavailable,
)

WRONG = "not the right password at all"


def add_user(app: Flask, username: str = "ana") -> None:
    with app.app_context():
        accounts.register_user(username, f"{username}@example.com", PASSWORD)
        db.session.remove()


@pytest.fixture
def limited(make_app: Callable[..., Flask]) -> Callable[..., Flask]:
    """An app with rate limits on (memory storage) and the account ana."""

    def factory(**overrides: Any) -> Flask:
        app = make_app(RATELIMIT_ENABLED=True, **overrides)
        add_user(app)
        return app

    return factory


def web_login(app: Flask, name: str = "ana", password: str = WRONG) -> TestResponse:
    """One login attempt from a fresh browser, so a success never leaves us logged in."""
    response: TestResponse = login(app.test_client(), name, password)
    return response


def api_login(app: Flask, name: str = "ana", password: str = WRONG) -> TestResponse:
    return app.test_client().post("/api/v1/tokens", json={"login": name, "password": password})


def login_from(client: FlaskClient, address: str) -> TestResponse:
    """Log ana in from another IP address."""
    environ = {"REMOTE_ADDR": address}
    page = client.get("/login", environ_overrides=environ).get_data(as_text=True)
    token = CSRF_INPUT.search(page)
    assert token
    return client.post(
        "/login",
        environ_overrides=environ,
        data={"csrf_token": token.group(1), "login": "ana", "password": PASSWORD},
    )


def fail_web_logins(app: Flask, times: int, name: str = "ana") -> None:
    for attempt in range(times):
        response = web_login(app, name)
        assert response.status_code == 401, f"attempt {attempt + 1} answered {response.status_code}"


def assert_limited_page(response: TestResponse) -> None:
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert "Too many attempts" in page
    assert "Traceback" not in page


def assert_limited_json(response: TestResponse) -> None:
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    assert response.is_json
    error = response.get_json()["error"]
    assert error["code"] == "rate_limited"
    assert error["message"]


# --- per account -----------------------------------------------------------------------


def test_sixth_failed_login_for_an_account_is_refused(limited: Callable[..., Flask]) -> None:
    app = limited()
    fail_web_logins(app, 5)
    assert_limited_page(web_login(app))


def test_the_right_password_is_refused_too_once_the_limit_is_spent(
    limited: Callable[..., Flask],
) -> None:
    app = limited()
    fail_web_logins(app, 5)
    response = web_login(app, password=PASSWORD)
    assert_limited_page(response)
    assert response.headers.get("Location") is None


def test_another_account_is_not_limited_by_ana_s_failures(limited: Callable[..., Flask]) -> None:
    app = limited()
    add_user(app, "bob")
    fail_web_logins(app, 5)
    assert web_login(app, "bob", PASSWORD).status_code == 302


def test_failures_by_username_and_by_email_share_one_allowance(
    limited: Callable[..., Flask],
) -> None:
    app = limited()
    fail_web_logins(app, 2, "ana")
    fail_web_logins(app, 2, "ana@example.com")
    fail_web_logins(app, 1, "ANA")
    assert_limited_page(web_login(app, "Ana@Example.com"))


def test_failures_on_the_form_and_the_api_share_one_allowance(
    limited: Callable[..., Flask],
) -> None:
    app = limited()
    fail_web_logins(app, 3)
    for _ in range(2):
        assert api_login(app, "ana@example.com").status_code == 401
    assert_limited_json(api_login(app))
    assert_limited_page(web_login(app))


def test_token_api_alone_is_limited_per_account(limited: Callable[..., Flask]) -> None:
    app = limited()
    for _ in range(5):
        assert api_login(app).status_code == 401
    assert_limited_json(api_login(app, password=PASSWORD))


def test_successful_logins_do_not_use_up_the_allowance(limited: Callable[..., Flask]) -> None:
    app = limited()
    for _ in range(6):
        assert web_login(app, password=PASSWORD).status_code == 302
        assert api_login(app, password=PASSWORD).status_code == 201
    fail_web_logins(app, 5)
    assert web_login(app).status_code == 429


def test_account_limit_is_configurable(limited: Callable[..., Flask]) -> None:
    app = limited(HUBBUB_LOGIN_LIMIT_ACCOUNT="2 per 15 minutes")
    fail_web_logins(app, 2)
    assert_limited_page(web_login(app))


# --- per IP ----------------------------------------------------------------------------


def test_eleventh_failed_login_from_one_ip_is_refused(limited: Callable[..., Flask]) -> None:
    app = limited()
    for number in range(10):
        fail_web_logins(app, 1, f"nobody{number}")
    assert_limited_page(web_login(app, "nobody10"))


def test_ip_limit_covers_the_api_too(limited: Callable[..., Flask]) -> None:
    app = limited()
    for number in range(10):
        assert api_login(app, f"nobody{number}").status_code == 401
    assert_limited_json(api_login(app, "nobody10"))


def test_another_ip_is_not_limited_by_one_ip_s_failures(limited: Callable[..., Flask]) -> None:
    app = limited()
    for number in range(10):
        fail_web_logins(app, 1, f"nobody{number}")
    assert login_from(app.test_client(), "192.0.2.7").status_code == 302


# --- registration ----------------------------------------------------------------------


def test_registration_is_limited_per_ip(limited: Callable[..., Flask]) -> None:
    app = limited(HUBBUB_REGISTER_LIMIT_IP="3 per hour")
    for name in ("bob", "cyd", "dee"):
        assert register(app.test_client(), name).status_code == 302
    users = count(app, User)
    assert_limited_page(register(app.test_client(), "eve"))
    assert count(app, User) == users


def test_registration_limit_covers_the_api_too(limited: Callable[..., Flask]) -> None:
    app = limited(HUBBUB_REGISTER_LIMIT_IP="3 per hour")
    for name in ("bob", "cyd", "dee"):
        assert register(app.test_client(), name).status_code == 302
    users = count(app, User)
    response = app.test_client().post(
        "/api/v1/accounts",
        json={"username": "eve", "email": "eve@example.com", "password": PASSWORD},
    )
    assert_limited_json(response)
    assert count(app, User) == users


def test_registration_pages_can_still_be_read_when_limited(
    limited: Callable[..., Flask],
) -> None:
    app = limited(HUBBUB_REGISTER_LIMIT_IP="1 per hour")
    register(app.test_client(), "bob")
    assert app.test_client().get("/register").status_code == 200


# --- switched off ----------------------------------------------------------------------


def test_limits_switched_off_never_answer_429(make_app: Callable[..., Flask]) -> None:
    app = make_app(RATELIMIT_ENABLED=False)
    add_user(app)
    fail_web_logins(app, 20)
    assert web_login(app, password=PASSWORD).status_code == 302


# --- Redis storage ---------------------------------------------------------------------


@pytest.fixture
def redis_db() -> Iterator[redis.Redis]:
    """The tests-only Redis database, empty, and ours alone while the test runs."""
    server = redis.Redis.from_url(REDIS_URL)
    try:
        server.ping()
    except redis.exceptions.ConnectionError as error:
        server.close()
        unavailable(f"Redis at {REDIS_URL}", error)
    # pytest-xdist workers share this database; one worker's flush would wipe another's counters.
    lock_path = Path(tempfile.gettempdir()) / "hubbub-tests-redis.lock"
    with lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        server.flushdb()
        try:
            yield server
        finally:
            server.flushdb()
            server.close()


def test_counters_live_in_redis_when_configured(
    limited: Callable[..., Flask], redis_db: redis.Redis
) -> None:
    app = limited(HUBBUB_REDIS_URL=REDIS_URL, RATELIMIT_STORAGE_URI=REDIS_URL)
    assert redis_db.keys("*") == []
    fail_web_logins(app, 1)
    keys = b" ".join(cast("list[bytes]", redis_db.keys("*")))
    assert b"hubbub" in keys
    assert b"login-account" in keys
    assert b"login-ip" in keys


def test_limits_follow_what_redis_holds(
    limited: Callable[..., Flask], redis_db: redis.Redis
) -> None:
    app = limited(HUBBUB_REDIS_URL=REDIS_URL, RATELIMIT_STORAGE_URI=REDIS_URL)
    fail_web_logins(app, 5)
    assert web_login(app).status_code == 429
    redis_db.flushdb()  # another server's view: the counters are gone, so the limit is too
    assert web_login(app, password=PASSWORD).status_code == 302
