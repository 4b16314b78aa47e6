"""The pages of hubbub.web (home and dashboard), and no page of any surface with inline script."""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from hubbub.models import User, db
from hubbub.services import conversations
from tests.support import login, register
from tests.support.pages import parse

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
