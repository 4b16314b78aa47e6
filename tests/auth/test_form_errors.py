"""Account forms shown again after a failed submit: what stays typed, where focus starts.

A password goes back to the browser only when every error is in a field outside its group
(the username was taken); never after an error of the form itself (a refused log-in) or of the
password (too short, the two differ). Focus starts at the first field with an error, or at the
summary when no field has one. Such a page is never cached.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from hubbub.models import User
from tests.support import PASSWORD, csrf_token, login, register
from tests.support.pages import Page, parse

OTHER = "another calm and quiet lake"  # noqa: S105  (a test account)


def typed(page: Page, name: str) -> str:
    """The value the page gives back in one input, '' when none."""
    return page.inputs()[name].get("value") or ""


def autofocused(page: Page) -> list[str]:
    """The id of every element that takes the focus when the page opens."""
    return [a.get("id") or "" for _, a in page.tags if "autofocus" in a]


def assert_shown_again(response: TestResponse) -> Page:
    assert 400 <= response.status_code < 500
    assert response.headers["Cache-Control"] == "no-store"
    return parse(response)


def test_an_error_in_another_field_keeps_the_passwords(client: FlaskClient) -> None:
    page = assert_shown_again(register(client, "ana", "not-an-email"))
    assert typed(page, "username") == "ana"
    assert typed(page, "email") == "not-an-email"
    assert typed(page, "password") == PASSWORD
    assert typed(page, "confirm") == PASSWORD
    assert autofocused(page) == ["email"]


def test_a_taken_username_keeps_the_passwords_and_focuses_the_username(
    client: FlaskClient, make_user: Callable[..., User]
) -> None:
    make_user("ana")
    page = assert_shown_again(register(client, "ana", "someone.else@example.com"))
    assert typed(page, "password") == PASSWORD
    assert typed(page, "confirm") == PASSWORD
    assert autofocused(page) == ["username"]


@pytest.mark.parametrize(
    ("password", "confirm", "first"),
    [
        ("too short", "too short", "password"),
        (PASSWORD, "a different long phrase", "confirm"),
    ],
    ids=["short", "differ"],
)
def test_an_error_in_the_passwords_clears_both(
    client: FlaskClient, password: str, confirm: str, first: str
) -> None:
    page = assert_shown_again(register(client, "ana", "ana@example.com", password, confirm))
    assert typed(page, "password") == "" and typed(page, "confirm") == ""
    assert typed(page, "username") == "ana" and typed(page, "email") == "ana@example.com"
    assert autofocused(page) == [first]


def test_focus_starts_at_the_first_of_several_errors(client: FlaskClient) -> None:
    page = assert_shown_again(register(client, "a", "not-an-email", "short"))
    assert autofocused(page) == ["username"]
    inputs = page.inputs()
    for name in ("username", "email", "password"):
        assert inputs[name]["aria-invalid"] == "true"
        assert f"{name}-error" in (inputs[name]["aria-describedby"] or "").split()
    ids = {a.get("id") for _, a in page.tags}
    assert {"username-error", "email-error", "password-error"} <= ids


def test_a_refused_log_in_never_sends_the_password_back(
    client: FlaskClient, make_user: Callable[..., User]
) -> None:
    make_user("ana")
    page = assert_shown_again(login(client, "ana", "not the right password"))
    assert typed(page, "login") == "ana"
    assert typed(page, "password") == ""
    assert autofocused(page) == ["form-errors"]


def test_a_log_in_without_a_username_keeps_the_password(client: FlaskClient) -> None:
    token = csrf_token(client, "/login")
    response = client.post("/login", data={"csrf_token": token, "login": "", "password": PASSWORD})
    page = assert_shown_again(response)
    assert typed(page, "password") == PASSWORD
    assert autofocused(page) == ["login"]


def test_a_wrong_current_password_keeps_only_the_new_one(
    client: FlaskClient, make_user: Callable[..., User]
) -> None:
    make_user("ana")
    login(client)
    token = csrf_token(client, "/settings/password")
    response = client.post(
        "/settings/password",
        data={
            "csrf_token": token,
            "current_password": "not the right password",
            "new_password": OTHER,
            "confirm": OTHER,
        },
    )
    page = assert_shown_again(response)
    assert typed(page, "current_password") == ""
    assert typed(page, "new_password") == OTHER and typed(page, "confirm") == OTHER
    assert autofocused(page) == ["current_password"]


def test_a_page_shown_fresh_focuses_nothing_and_may_be_cached(client: FlaskClient) -> None:
    response = client.get("/register")
    assert response.status_code == 200
    assert "no-store" not in response.headers.get("Cache-Control", "")
    assert autofocused(parse(response)) == []
