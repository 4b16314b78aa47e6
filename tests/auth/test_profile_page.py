"""The profile page (/settings/profile): the display name, set and cleared as a person does."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from hubbub.models import User, db
from tests.support import count, csrf_token, login

PAGE = "/settings/profile"


def save(client: FlaskClient, value: str) -> TestResponse:
    token = csrf_token(client, PAGE)
    return client.post(PAGE, data={"csrf_token": token, "display_name": value})


def stored(app: Flask, username: str) -> str | None:
    with app.app_context():
        return db.session.scalar(select(User.display_name).where(User.username == username))


@pytest.fixture
def ana(app: Flask, make_user: Callable[..., User]) -> FlaskClient:
    make_user("ana")
    client = app.test_client()
    assert login(client, "ana").status_code == 302
    return client


def test_the_page_needs_a_login(client: FlaskClient) -> None:
    response = client.get(PAGE)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_a_display_name_is_saved_shown_and_cleared(app: Flask, ana: FlaskClient) -> None:
    page = ana.get(PAGE).get_data(as_text=True)
    assert 'name="display_name"' in page and "Your username is <strong>ana</strong>" in page
    response = save(ana, "  Ana Lima ")
    assert response.status_code == 302 and response.headers["Location"] == PAGE
    assert stored(app, "ana") == "Ana Lima"
    shown = ana.get(PAGE).get_data(as_text=True)
    assert "Your display name is saved." in shown and 'value="Ana Lima"' in shown
    assert save(ana, "").status_code == 302
    assert stored(app, "ana") is None
    assert "Your display name is cleared." in ana.get(PAGE).get_data(as_text=True)


@pytest.mark.parametrize("value", ["a" * 65, "a\u202eb", "tab\there"], ids=["long", "bidi", "tab"])
def test_a_bad_display_name_is_shown_beside_the_field_and_changes_nothing(
    app: Flask, ana: FlaskClient, value: str
) -> None:
    assert save(ana, "Before").status_code == 302
    response = save(ana, value)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="display_name-error"' in html and 'aria-invalid="true"' in html
    assert stored(app, "ana") == "Before"
    assert count(app, User) == 1


def test_without_the_csrf_token_nothing_is_saved(app: Flask, ana: FlaskClient) -> None:
    response = ana.post(PAGE, data={"display_name": "Sneaky"})
    assert response.status_code == 403
    assert stored(app, "ana") is None
