"""Helpers the tests share: reaching PostgreSQL and Redis, and talking to the app as a person.

Each module of this package holds one kind of helper, and fixtures.py the fixtures shared across
the tests' folders; the tests' folders themselves hold only tests and conftest.py.
"""

from __future__ import annotations

import os
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from hubbub.models import db

# CI sets this so that a missing PostgreSQL or Redis fails the run instead of skipping.
REQUIRE_SERVICES = os.environ.get("HUBBUB_REQUIRE_SERVICES") == "1"
POSTGRES_ADMIN_URL = os.environ.get(
    "HUBBUB_TEST_POSTGRES_URL", "postgresql+psycopg://hubbub:hubbub@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("HUBBUB_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")

PASSWORD = "a long and quiet river"

TEST_CONFIG: dict[str, Any] = {
    "TESTING": True,
    "SECRET_KEY": "tests-only-secret",
    # Cheap hashing for speed; test_passwords checks the production cost separately.
    "ARGON2_TIME_COST": 1,
    "ARGON2_MEMORY_COST": 256,
    "ARGON2_PARALLELISM": 1,
    "RATELIMIT_ENABLED": False,
    "RATELIMIT_STORAGE_URI": "memory://",
    "HUBBUB_REDIS_URL": None,
}


def unavailable(what: str, reason: object) -> None:
    message = f"{what} not available, skipped: {reason}"
    if REQUIRE_SERVICES:
        pytest.fail(f"{message} (HUBBUB_REQUIRE_SERVICES=1 makes this a failure)")
    pytest.skip(message)


def count(app: Flask, model: Any) -> int:
    """How many rows a table holds, read fresh from the database."""
    with app.app_context():
        return int(db.session.scalar(select(func.count()).select_from(model)) or 0)


CSRF_INPUT = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token(client: FlaskClient, path: str = "/login") -> str:
    """The CSRF token a page hands the browser, as a person's browser would receive it."""
    page = client.get(path).get_data(as_text=True)
    match = CSRF_INPUT.search(page)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def register(
    client: FlaskClient,
    username: str = "ana",
    email: str | None = None,
    password: str = PASSWORD,
    confirm: str | None = None,
) -> Any:
    token = csrf_token(client, "/register")
    return client.post(
        "/register",
        data={
            "csrf_token": token,
            "username": username,
            "email": email if email is not None else f"{username}@example.com",
            "password": password,
            "confirm": confirm if confirm is not None else password,
        },
    )


def login(
    client: FlaskClient, login: str = "ana", password: str = PASSWORD, remember: bool = False
) -> Any:
    token = csrf_token(client, "/login")
    data = {"csrf_token": token, "login": login, "password": password}
    if remember:
        data["remember"] = "y"
    return client.post("/login", data=data)


def logout(client: FlaskClient) -> Any:
    token = csrf_token(client, "/dashboard")
    return client.post("/logout", data={"csrf_token": token})


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
