"""The chat pages: who may open them and what they hand to their scripts."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

from flask import Flask
from flask.testing import FlaskClient

from hubbub.models import User, db
from hubbub.services import conversations
from tests.support import login
from tests.support.pages import parse

CSRF_VALUE = re.compile(rb'(?<=name="csrf_token" )value="[^"]*"')


def open_direct(app: Flask, user: User, other: User) -> int:
    with app.app_context():
        conversation, _ = conversations.open_direct(db.session.get(User, user.id), other.id)
        return conversation.id


def settings_of(client: FlaskClient, path: str) -> dict[str, object]:
    response = client.get(path)
    assert response.status_code == 200, path
    found = [a["data-settings"] for t, a in parse(response).tags if a.get("data-settings")]
    assert len(found) == 1, f"{path} should hand its scripts exactly one settings attribute"
    settings: dict[str, object] = json.loads(found[0] or "")
    return settings


def test_a_conversation_page_sends_visitors_to_log_in_and_back(client: FlaskClient) -> None:
    response = client.get("/c/1")
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == "/login"
    assert parse_qs(location.query)["next"] == ["/c/1"]


def test_members_get_the_page_with_what_its_scripts_need(
    app: Flask, client: FlaskClient, make_user: Callable[..., User]
) -> None:
    ana, bob = make_user("ana"), make_user("bob")
    conversation_id = open_direct(app, ana, bob)
    login(client, "bob")

    settings = settings_of(client, f"/c/{conversation_id}")

    assert settings["me"] == {"id": bob.id, "username": "bob"}
    assert settings["conversation_id"] == conversation_id
    assert settings["api"] == "/api/v1"
    assert settings["stream"] == "/api/v1/stream"
    assert settings["conversation_url"] == "/c/"
    assert settings["dashboard"] == "/dashboard"
    assert isinstance(settings["csrf_token"], str) and len(settings["csrf_token"]) > 20
    # The token in the settings is the one the API accepts from this session.
    answer = client.post(
        f"/api/v1/conversations/{conversation_id}/messages",
        json={"body": "hi"},
        headers={"X-CSRFToken": str(settings["csrf_token"])},
    )
    assert answer.status_code == 201, answer.get_json()


def test_the_dashboard_opens_no_conversation(
    client: FlaskClient, make_user: Callable[..., User]
) -> None:
    make_user("ana")
    login(client, "ana")
    assert settings_of(client, "/dashboard")["conversation_id"] is None


def test_outsiders_get_the_same_not_found_as_for_a_missing_conversation(
    app: Flask, client: FlaskClient, make_user: Callable[..., User]
) -> None:
    ana, bob = make_user("ana"), make_user("bob")
    make_user("cara")
    conversation_id = open_direct(app, ana, bob)
    login(client, "cara")

    theirs = client.get(f"/c/{conversation_id}")
    missing = client.get(f"/c/{conversation_id + 1000}")
    beyond_any_id = client.get(f"/c/{2**31}")

    assert theirs.status_code == missing.status_code == beyond_any_id.status_code == 404
    # The log-out form's CSRF token is signed with the second it was made, so pages made a
    # second apart differ there alone.
    pages = [
        CSRF_VALUE.sub(b'value=""', page.get_data()) for page in (theirs, missing, beyond_any_id)
    ]
    assert all(b'name="csrf_token" value=""' in page for page in pages)
    assert pages[0] == pages[1] == pages[2]
    assert b"data-settings" not in theirs.get_data()
