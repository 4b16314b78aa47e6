"""Browser sessions: a random id in the cookie, rotated at login, ended at logout."""

from __future__ import annotations

import base64
import hashlib
import re
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from hubbub.models import User, WebSession, db
from tests.support import PASSWORD, csrf_token, login, logout

COOKIE = "hubbub_session"
NEW_PASSWORD = "another calm and quiet lake"  # noqa: S105  (a test account)


def cookie(client: FlaskClient) -> str:
    stored = client.get_cookie(COOKIE)
    assert stored is not None, "no session cookie"
    return stored.value


def with_cookie(app: Flask, value: str) -> FlaskClient:
    """A fresh browser holding a copy of someone's session cookie."""
    thief = app.test_client()
    thief.set_cookie(COOKIE, value)
    return thief


def session_set_cookie(response: TestResponse) -> str:
    headers = [h for h in response.headers.getlist("Set-Cookie") if h.startswith(f"{COOKIE}=")]
    assert len(headers) == 1, headers
    return headers[0]


def attributes(set_cookie: str) -> dict[str, str]:
    parts = [p.strip() for p in set_cookie.split(";")[1:]]
    return {k.lower(): v for k, _, v in (p.partition("=") for p in parts if p)}


def stored_ids(app: Flask, user_id: int | None = None) -> set[str]:
    with app.app_context():
        query = select(WebSession.id)
        if user_id is not None:
            query = query.where(WebSession.user_id == user_id)
        return set(db.session.scalars(query))


def sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def change_password(client: FlaskClient) -> TestResponse:
    token = csrf_token(client, "/settings/password")
    return client.post(
        "/settings/password",
        data={
            "csrf_token": token,
            "current_password": PASSWORD,
            "new_password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD,
        },
    )


@pytest.fixture
def logged_in(client: FlaskClient, ana_user: User) -> FlaskClient:
    response = login(client)
    assert response.status_code == 302
    return client


# --- what the cookie holds -------------------------------------------------------------


def test_cookie_is_a_long_random_id(logged_in: FlaskClient) -> None:
    value = cookie(logged_in)
    assert re.fullmatch(r"[A-Za-z0-9_-]+", value), value
    assert len(value) >= 22  # 128 bits in URL-safe base64


def test_cookie_carries_no_user_data(logged_in: FlaskClient, ana_user: User) -> None:
    value = cookie(logged_in)
    assert ana_user.username not in value.lower()
    assert "." not in value  # a signed Flask cookie is payload.timestamp.signature
    decoded = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    assert b"_user_id" not in decoded
    assert b'{"' not in decoded


def test_two_logins_get_different_ids(app: Flask, ana_user: User) -> None:
    first, second = app.test_client(), app.test_client()
    login(first)
    login(second)
    assert cookie(first) != cookie(second)


def test_database_keeps_the_hash_of_the_cookie_not_the_cookie(
    app: Flask, logged_in: FlaskClient, ana_user: User
) -> None:
    value = cookie(logged_in)
    ids = stored_ids(app, ana_user.id)
    assert ids == {sha256(value)}
    with app.app_context():
        rows = db.session.scalars(select(WebSession)).all()
        assert rows
        assert all(row.id != value and value not in row.data for row in rows)


# --- rotation and ending ---------------------------------------------------------------


def test_login_gives_a_new_id(app: Flask, client: FlaskClient, ana_user: User) -> None:
    client.get("/login")
    before = cookie(client)
    login(client)
    after = cookie(client)
    assert before != after
    assert sha256(before) not in stored_ids(app)
    assert with_cookie(app, before).get("/dashboard").status_code == 302
    assert with_cookie(app, after).get("/dashboard").status_code == 200


def test_a_copied_cookie_works_while_the_session_lives(app: Flask, logged_in: FlaskClient) -> None:
    # The counterpart of the logout test below: the copy is a working session until then.
    assert with_cookie(app, cookie(logged_in)).get("/dashboard").status_code == 200


def test_logout_deletes_the_session(app: Flask, logged_in: FlaskClient, ana_user: User) -> None:
    value = cookie(logged_in)
    logout(logged_in)
    assert stored_ids(app, ana_user.id) == set()
    assert sha256(value) not in stored_ids(app)


def test_a_copied_cookie_is_useless_after_logout(app: Flask, logged_in: FlaskClient) -> None:
    value = cookie(logged_in)
    logout(logged_in)
    response = with_cookie(app, value).get("/dashboard")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_password_change_logs_out_every_other_session(app: Flask, ana_user: User) -> None:
    changer, other = app.test_client(), app.test_client()
    login(changer)
    login(other)
    assert other.get("/dashboard").status_code == 200
    assert change_password(changer).status_code == 302
    assert other.get("/dashboard").status_code == 302


def test_password_change_keeps_the_changing_browser_in_with_a_new_id(
    app: Flask, logged_in: FlaskClient, ana_user: User
) -> None:
    before = cookie(logged_in)
    change_password(logged_in)
    after = cookie(logged_in)
    assert after != before
    assert logged_in.get("/dashboard").status_code == 200
    assert with_cookie(app, before).get("/dashboard").status_code == 302
    assert stored_ids(app, ana_user.id) == {sha256(after)}


def test_deactivated_user_is_logged_out(app: Flask, logged_in: FlaskClient, ana_user: User) -> None:
    with app.app_context():
        user = db.session.get(User, ana_user.id)
        assert user is not None
        user.is_active = False
        db.session.commit()
    response = logged_in.get("/dashboard")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")
    assert logged_in.get("/api/v1/me").status_code == 401


# --- cookie flags ----------------------------------------------------------------------


def test_cookie_is_http_only_and_same_site_lax(client: FlaskClient, ana_user: User) -> None:
    flags = attributes(session_set_cookie(login(client)))
    assert "httponly" in flags
    assert flags.get("samesite", "").lower() == "lax"
    assert flags.get("path") == "/"


def test_cookie_is_not_secure_over_http(client: FlaskClient, ana_user: User) -> None:
    assert "secure" not in attributes(session_set_cookie(login(client)))


def test_cookie_is_secure_over_https(client: FlaskClient, ana_user: User) -> None:
    page = client.get("/login", base_url="https://localhost")
    assert "secure" in attributes(session_set_cookie(page))
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.get_data(as_text=True))
    assert token
    response = client.post(
        "/login",
        base_url="https://localhost",
        headers={"Referer": "https://localhost/login"},
        data={"csrf_token": token.group(1), "login": "ana", "password": PASSWORD},
    )
    assert response.status_code == 302
    flags = attributes(session_set_cookie(response))
    assert "secure" in flags
    assert "httponly" in flags


def test_remember_me_keeps_the_cookie_for_about_30_days(
    client: FlaskClient, ana_user: User
) -> None:
    flags = attributes(session_set_cookie(login(client, remember=True)))
    if "max-age" in flags:
        lifetime = timedelta(seconds=int(flags["max-age"]))
    else:
        assert "expires" in flags
        lifetime = parsedate_to_datetime(flags["expires"]) - datetime.now(UTC)
    assert timedelta(days=29) < lifetime <= timedelta(days=30, minutes=1)


def test_remember_me_session_lasts_30_days_on_the_server(
    app: Flask, client: FlaskClient, ana_user: User
) -> None:
    login(client, remember=True)
    with app.app_context():
        row = db.session.get(WebSession, sha256(cookie(client)))
        assert row is not None
        assert row.expires_at - datetime.now(UTC) > timedelta(days=29)


def test_without_remember_me_the_cookie_ends_with_the_browser(
    client: FlaskClient, ana_user: User
) -> None:
    flags = attributes(session_set_cookie(login(client)))
    assert "expires" not in flags
    assert "max-age" not in flags


def test_without_remember_me_the_server_forgets_the_session_within_a_day(
    app: Flask, client: FlaskClient, ana_user: User
) -> None:
    login(client)
    with app.app_context():
        row = db.session.get(WebSession, sha256(cookie(client)))
        assert row is not None
        assert row.expires_at - datetime.now(UTC) <= timedelta(days=1)
