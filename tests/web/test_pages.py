"""The server-rendered pages: home, register, log in, dashboard and password change."""

from __future__ import annotations

import re
from collections.abc import Callable
from html.parser import HTMLParser
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from hubbub.models import User, db
from hubbub.services import conversations
from hubbub.services.accounts import BAD_CREDENTIALS
from tests.support import PASSWORD, count, csrf_token, login, logout, register

NEW_PASSWORD = "another calm and quiet lake"  # noqa: S105  (a test account)


class Page(HTMLParser):
    """Collects what the tests look for in a rendered page."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.script_text: list[str] = []
        self.style_text: list[str] = []
        self._inside: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag in {"script", "style"}:
            self._inside = tag

    def handle_endtag(self, tag: str) -> None:
        if tag == self._inside:
            self._inside = None

    def handle_data(self, data: str) -> None:
        if self._inside == "script":
            self.script_text.append(data)
        elif self._inside == "style":
            self.style_text.append(data)

    def inputs(self) -> dict[str, dict[str, str | None]]:
        return {a["name"] or "": a for t, a in self.tags if t == "input" and a.get("name")}

    def links(self) -> set[str]:
        return {a["href"] or "" for t, a in self.tags if t == "a" and a.get("href")}


def parse(response: TestResponse) -> Page:
    page = Page()
    page.feed(response.get_data(as_text=True))
    return page


def field_error(response: TestResponse, name: str) -> str:
    """The message shown next to one field, or '' when there is none."""
    html = response.get_data(as_text=True)
    match = re.search(rf'<p class="error" id="{name}-error">(.*?)</p>', html, re.S)
    return match.group(1).strip() if match else ""


def form_error(response: TestResponse) -> str:
    html = response.get_data(as_text=True)
    match = re.search(r'<div class="form-error" role="alert">(.*?)</div>', html, re.S)
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


# --- home ------------------------------------------------------------------------------


def test_home_offers_register_and_log_in_to_visitors(client: FlaskClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert {"/register", "/login"} <= parse(response).links()
    assert "Hubbub" in response.get_data(as_text=True)


def test_home_sends_a_logged_in_user_to_the_dashboard(
    client: FlaskClient, make_user: Callable[..., User]
) -> None:
    make_user()
    login(client)
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/dashboard"


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


# --- dashboard -------------------------------------------------------------------------


def test_dashboard_sends_visitors_to_log_in_and_back(client: FlaskClient) -> None:
    response = client.get("/dashboard")
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == "/login"
    assert parse_qs(location.query)["next"] == ["/dashboard"]


def test_dashboard_lists_conversations_and_offers_log_out(
    client: FlaskClient, make_user: Callable[..., User]
) -> None:
    make_user()
    login(client)
    response = client.get("/dashboard")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Your conversations" in html
    forms = [a for t, a in parse(response).tags if t == "form"]
    assert any(f.get("action") == "/logout" and f.get("method") == "post" for f in forms)
    assert re.search(r'<button type="submit"[^>]*>\s*Log out\s*</button>', html)


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


def test_bad_registration_keeps_what_was_typed_except_passwords(client: FlaskClient) -> None:
    response = register(client, "ana", "not-an-email")
    inputs = parse(response).inputs()
    assert inputs["username"]["value"] == "ana"
    assert inputs["email"]["value"] == "not-an-email"
    assert not inputs["password"].get("value")


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


# --- no inline script or style (the CSP would block them) -------------------------------


@pytest.fixture
def rendered_pages(app: Flask, make_user: Callable[..., User]) -> dict[str, TestResponse]:
    make_user()
    visitor = app.test_client()
    pages = {path: visitor.get(path) for path in ("/", "/register", "/login", "/no-such-page")}
    pages["/login (failed)"] = login(app.test_client(), "ana", "not the right password")
    pages["/register (invalid)"] = register(app.test_client(), "a", "bad")
    member = app.test_client()
    login(member)
    pages["/dashboard"] = member.get("/dashboard")
    pages["/settings/password"] = member.get("/settings/password")
    with app.app_context():
        ana = db.session.scalars(select(User).where(User.username == "ana")).one()
        conversation, _ = conversations.open_direct(ana, make_user("bob").id)
        pages["/c/<id>"] = member.get(f"/c/{conversation.id}")
    return pages


def test_pages_have_no_inline_script(rendered_pages: dict[str, TestResponse]) -> None:
    for name, response in rendered_pages.items():
        assert response.mimetype == "text/html", name
        page = parse(response)
        assert "".join(page.script_text).strip() == "", name
        for tag, attrs in page.tags:
            if tag == "script":
                assert attrs.get("src"), f"{name}: a <script> without src"


def test_pages_have_no_inline_style(rendered_pages: dict[str, TestResponse]) -> None:
    for name, response in rendered_pages.items():
        page = parse(response)
        assert not page.style_text, f"{name}: a <style> element"
        for tag, attrs in page.tags:
            assert "style" not in attrs, f"{name}: style= on <{tag}>"


def test_pages_have_no_inline_event_handlers(rendered_pages: dict[str, TestResponse]) -> None:
    for name, response in rendered_pages.items():
        for tag, attrs in parse(response).tags:
            handlers = [a for a in attrs if a.startswith("on")]
            assert not handlers, f"{name}: {handlers} on <{tag}>"
            for attr in ("href", "src", "action", "formaction"):
                value = (attrs.get(attr) or "").strip().lower()
                assert not value.startswith("javascript:"), f"{name}: {attr} on <{tag}>"
