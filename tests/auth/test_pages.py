"""The pages of hubbub.auth: register, log in, log out and change the password, CSRF included."""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import urljoin, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from hubbub.models import User
from hubbub.services.accounts import BAD_CREDENTIALS
from tests.support import PASSWORD, count, csrf_token, login, logout, register
from tests.support.pages import parse

NEW_PASSWORD = "another calm and quiet lake"  # noqa: S105  (a test account)


def field_error(response: TestResponse, name: str) -> str:
    """The message shown next to one field, or '' when there is none."""
    html = response.get_data(as_text=True)
    match = re.search(rf'<p class="error" id="{name}-error">(.*?)</p>', html, re.S)
    return match.group(1).strip() if match else ""


def form_error(response: TestResponse) -> str:
    html = response.get_data(as_text=True)
    match = re.search(r'<div class="form-error" role="alert"[^>]*>(.*?)</div>', html, re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(1))).strip() if match else ""


def post_login(client: FlaskClient, login_name: str, password: str, next_page: str) -> TestResponse:
    token = csrf_token(client, "/login")
    return client.post(
        "/login",
        query_string={"next": next_page},
        data={"csrf_token": token, "login": login_name, "password": password},
    )


def change_password(
    client: FlaskClient, current: str, new: str = NEW_PASSWORD, confirm: str | None = None
) -> TestResponse:
    token = csrf_token(client, "/settings/password")
    return client.post(
        "/settings/password",
        data={
            "csrf_token": token,
            "current_password": current,
            "new_password": new,
            "confirm": confirm if confirm is not None else new,
        },
    )


# --- the forms as rendered -------------------------------------------------------------


def test_register_page_has_its_four_fields(client: FlaskClient) -> None:
    response = client.get("/register")
    assert response.status_code == 200
    inputs = parse(response).inputs()
    assert {"username", "email", "password", "confirm", "csrf_token"} <= inputs.keys()
    assert inputs["password"]["type"] == "password"
    assert inputs["confirm"]["type"] == "password"
    assert inputs["email"]["type"] == "email"


def test_register_fields_have_labels(client: FlaskClient) -> None:
    page = parse(client.get("/register"))
    labelled = {a.get("for") for t, a in page.tags if t == "label"}
    assert {"username", "email", "password", "confirm"} <= labelled


def test_login_page_has_login_password_and_remember(client: FlaskClient) -> None:
    response = client.get("/login")
    assert response.status_code == 200
    inputs = parse(response).inputs()
    assert {"login", "password", "remember", "csrf_token"} <= inputs.keys()
    assert inputs["password"]["type"] == "password"
    assert inputs["remember"]["type"] == "checkbox"


# --- registering -----------------------------------------------------------------------


def test_registering_logs_you_in_and_lands_on_the_dashboard(
    app: Flask, client: FlaskClient
) -> None:
    response = register(client, "ana")
    assert response.status_code == 302
    assert response.headers["Location"] == "/dashboard"
    dashboard = client.get("/dashboard")
    assert dashboard.status_code == 200
    assert "Hello, ana" in dashboard.get_data(as_text=True)
    assert count(app, User) == 1


@pytest.mark.parametrize(
    ("fields", "bad_field"),
    [
        ({"username": "a"}, "username"),
        ({"username": "ana bob"}, "username"),
        ({"username": "x" * 33}, "username"),
        ({"email": "not-an-email"}, "email"),
        ({"email": "ana@"}, "email"),
        ({"password": "short one", "confirm": "short one"}, "password"),
        ({"password": "password1234", "confirm": "password1234"}, "password"),
        ({"confirm": "a different long phrase"}, "confirm"),
    ],
    ids=[
        "short-username",
        "space-in-username",
        "long-username",
        "email-without-at",
        "email-without-domain",
        "short-password",
        "common-password",
        "confirm-mismatch",
    ],
)
def test_bad_registration_shows_why_next_to_the_field_and_writes_nothing(
    app: Flask, client: FlaskClient, fields: dict[str, str], bad_field: str
) -> None:
    data = {"username": "ana", "email": "ana@example.com", "password": PASSWORD}
    data["confirm"] = data["password"]
    data.update(fields)
    response = register(client, data["username"], data["email"], data["password"], data["confirm"])
    assert 400 <= response.status_code < 500
    assert field_error(response, bad_field)
    others = {"username", "email", "password", "confirm"} - {bad_field}
    assert all(not field_error(response, name) for name in others)
    assert parse(response).inputs()["username"]  # the form is shown again
    assert count(app, User) == 0


def test_username_taken_in_another_case_is_refused(
    app: Flask, client: FlaskClient, make_user: Callable[..., User]
) -> None:
    make_user("ana")
    response = register(client, "Ana", "someone.else@example.com")
    assert 400 <= response.status_code < 500
    assert field_error(response, "username")
    assert not field_error(response, "email")
    assert count(app, User) == 1


def test_email_in_use_is_refused(
    app: Flask, client: FlaskClient, make_user: Callable[..., User]
) -> None:
    make_user("ana", "ana@example.com")
    response = register(client, "bob", "ANA@example.com")
    assert 400 <= response.status_code < 500
    assert field_error(response, "email")
    assert not field_error(response, "username")
    assert count(app, User) == 1


def test_a_logged_in_user_is_sent_from_register_to_the_dashboard(
    app: Flask, client: FlaskClient
) -> None:
    register(client, "ana")
    response = client.get("/register")
    assert response.status_code == 302
    assert response.headers["Location"] == "/dashboard"


# --- logging in ------------------------------------------------------------------------


@pytest.mark.parametrize("login_name", ["ana", "ana@example.com", "ANA", " Ana@Example.com "])
def test_log_in_by_username_or_email(
    client: FlaskClient, make_user: Callable[..., User], login_name: str
) -> None:
    make_user("ana", "ana@example.com")
    response = login(client, login_name)
    assert response.status_code == 302
    assert response.headers["Location"] == "/dashboard"
    assert "Hello, ana" in client.get("/dashboard").get_data(as_text=True)


def test_failed_login_says_the_same_for_unknown_user_and_wrong_password(
    app: Flask, make_user: Callable[..., User]
) -> None:
    make_user("ana")
    unknown = login(app.test_client(), "nobody", PASSWORD)
    wrong = login(app.test_client(), "ana", "not the right password")
    unknown_email = login(app.test_client(), "nobody@example.com", PASSWORD)
    assert unknown.status_code == wrong.status_code == unknown_email.status_code == 401
    assert form_error(unknown) == form_error(wrong) == form_error(unknown_email) == BAD_CREDENTIALS
    for response in (unknown, wrong, unknown_email):
        assert not field_error(response, "login")
        assert not field_error(response, "password")


def test_failed_login_does_not_log_in(app: Flask, make_user: Callable[..., User]) -> None:
    make_user("ana")
    client = app.test_client()
    login(client, "ana", "not the right password")
    assert client.get("/dashboard").status_code == 302


def test_failed_login_keeps_the_login_but_not_the_password(
    client: FlaskClient, make_user: Callable[..., User]
) -> None:
    make_user("ana")
    inputs = parse(login(client, "ana", "not the right password")).inputs()
    assert inputs["login"]["value"] == "ana"
    assert not inputs["password"].get("value")


def test_login_goes_back_to_a_local_next_page(
    client: FlaskClient, make_user: Callable[..., User]
) -> None:
    make_user()
    response = post_login(client, "ana", PASSWORD, "/settings/password?tab=1")
    assert response.status_code == 302
    assert response.headers["Location"] == "/settings/password?tab=1"


@pytest.mark.parametrize(
    "next_page",
    ["https://evil.example/", "//evil.example", "///evil.example", "http:evil.example", ""],
)
def test_login_never_sends_you_to_another_site(
    client: FlaskClient, make_user: Callable[..., User], next_page: str
) -> None:
    make_user()
    response = post_login(client, "ana", PASSWORD, next_page)
    assert response.status_code == 302
    assert response.headers["Location"] == "/dashboard"


@pytest.mark.parametrize("next_page", ["/\\evil.example", "/\t/evil.example"])
def test_login_next_with_characters_browsers_rewrite_stays_on_this_site(
    client: FlaskClient, make_user: Callable[..., User], next_page: str
) -> None:
    make_user()
    location = post_login(client, "ana", PASSWORD, next_page).headers["Location"]
    # Browsers read "\" as "/" and drop tabs, so "/\evil.example" would become "//evil.example".
    as_browser = location.replace("\\", "/").replace("\t", "")
    assert urlsplit(urljoin("http://localhost/login", as_browser)).hostname == "localhost"


# --- CSRF ------------------------------------------------------------------------------


def test_register_without_csrf_token_is_refused_and_writes_nothing(
    app: Flask, client: FlaskClient
) -> None:
    client.get("/register")
    response = client.post(
        "/register",
        data={
            "username": "ana",
            "email": "ana@example.com",
            "password": PASSWORD,
            "confirm": PASSWORD,
        },
    )
    assert response.status_code == 403
    assert count(app, User) == 0


def test_register_with_a_forged_csrf_token_is_refused(app: Flask, client: FlaskClient) -> None:
    client.get("/register")
    response = client.post(
        "/register",
        data={
            "csrf_token": "forged",
            "username": "ana",
            "email": "ana@example.com",
            "password": PASSWORD,
            "confirm": PASSWORD,
        },
    )
    assert response.status_code == 403
    assert count(app, User) == 0


def test_csrf_token_of_another_browser_is_refused(app: Flask) -> None:
    other_token = csrf_token(app.test_client(), "/register")
    client = app.test_client()
    client.get("/register")
    response = client.post(
        "/register",
        data={
            "csrf_token": other_token,
            "username": "ana",
            "email": "ana@example.com",
            "password": PASSWORD,
            "confirm": PASSWORD,
        },
    )
    assert response.status_code == 403
    assert count(app, User) == 0


def test_login_without_csrf_token_is_refused(
    client: FlaskClient, make_user: Callable[..., User]
) -> None:
    make_user()
    client.get("/login")
    response = client.post("/login", data={"login": "ana", "password": PASSWORD})
    assert response.status_code == 403
    assert client.get("/dashboard").status_code == 302


def test_logout_without_csrf_token_is_refused(
    client: FlaskClient, make_user: Callable[..., User]
) -> None:
    make_user()
    login(client)
    assert client.post("/logout").status_code == 403
    assert client.get("/dashboard").status_code == 200


def test_password_change_without_csrf_token_is_refused(
    app: Flask, client: FlaskClient, make_user: Callable[..., User]
) -> None:
    make_user()
    login(client)
    response = client.post(
        "/settings/password",
        data={"current_password": PASSWORD, "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert response.status_code == 403
    assert login(app.test_client(), "ana", PASSWORD).status_code == 302


# --- logging out -----------------------------------------------------------------------


def test_log_out_ends_the_session(client: FlaskClient, make_user: Callable[..., User]) -> None:
    make_user()
    login(client)
    response = logout(client)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert client.get("/dashboard").status_code == 302
    assert "You are logged out." in client.get("/").get_data(as_text=True)


# --- changing the password -------------------------------------------------------------


def test_password_page_needs_a_login(client: FlaskClient) -> None:
    response = client.get("/settings/password")
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/login"


def test_password_page_has_its_fields(client: FlaskClient, make_user: Callable[..., User]) -> None:
    make_user()
    login(client)
    response = client.get("/settings/password")
    assert response.status_code == 200
    inputs = parse(response).inputs()
    assert {"current_password", "new_password", "confirm", "csrf_token"} <= inputs.keys()


def test_password_change_takes_effect(
    app: Flask, client: FlaskClient, make_user: Callable[..., User]
) -> None:
    make_user()
    login(client)
    response = change_password(client, PASSWORD)
    assert response.status_code == 302
    assert response.headers["Location"] == "/dashboard"
    assert client.get("/dashboard").status_code == 200
    assert login(app.test_client(), "ana", PASSWORD).status_code == 401
    assert login(app.test_client(), "ana", NEW_PASSWORD).status_code == 302


def test_wrong_current_password_is_shown_next_to_the_field(
    app: Flask, client: FlaskClient, make_user: Callable[..., User]
) -> None:
    make_user()
    login(client)
    response = change_password(client, "not the right password")
    assert 400 <= response.status_code < 500
    assert field_error(response, "current_password")
    assert not field_error(response, "new_password")
    assert login(app.test_client(), "ana", PASSWORD).status_code == 302
    assert login(app.test_client(), "ana", NEW_PASSWORD).status_code == 401


@pytest.mark.parametrize(
    ("new", "confirm", "bad_field"),
    [
        ("too short", "too short", "new_password"),
        ("password1234", "password1234", "new_password"),
        (NEW_PASSWORD, "a different long phrase", "confirm"),
    ],
    ids=["short", "common", "confirm-mismatch"],
)
def test_bad_new_password_is_shown_next_to_the_field(
    app: Flask,
    client: FlaskClient,
    make_user: Callable[..., User],
    new: str,
    confirm: str,
    bad_field: str,
) -> None:
    make_user()
    login(client)
    response = change_password(client, PASSWORD, new, confirm)
    assert 400 <= response.status_code < 500
    assert field_error(response, bad_field)
    assert login(app.test_client(), "ana", PASSWORD).status_code == 302
