"""Changes made with the cookie from another site's page are refused, CSRF token or not."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient

from hubbub.models import ApiToken, Message, User, WebSession, db
from hubbub.services import conversations, tokens
from tests.support import PASSWORD, bearer, count, csrf_token, login

FOREIGN = "https://evil.example"
OWN = "http://localhost"  # the Flask test client's host


def direct(app: Flask, user: User, other: User) -> int:
    with app.app_context():
        conversation, _ = conversations.open_direct(db.session.get(User, user.id), other.id)
        return conversation.id


def test_a_message_sent_with_the_cookie_from_a_foreign_page_is_refused(
    app: Flask, client: FlaskClient, make_user: Callable[..., User]
) -> None:
    conversation_id = direct(app, make_user("ana"), make_user("bob"))
    login(client)
    token = csrf_token(client, "/dashboard")  # even with the right CSRF token
    path = f"/api/v1/conversations/{conversation_id}/messages"

    refused = client.post(
        path, json={"body": "hi"}, headers={"X-CSRFToken": token, "Origin": FOREIGN}
    )

    assert refused.status_code == 403
    assert refused.get_json()["error"]["code"] == "csrf_failed"
    assert count(app, Message) == 0
    allowed = client.post(path, json={"body": "hi"}, headers={"X-CSRFToken": token, "Origin": OWN})
    assert allowed.status_code == 201
    assert count(app, Message) == 1


def test_a_login_form_posted_from_a_foreign_page_is_refused(
    app: Flask, client: FlaskClient, make_user: Callable[..., User]
) -> None:
    make_user("ana")
    token = csrf_token(client, "/login")
    sessions_before = count(app, WebSession)

    refused = client.post(
        "/login",
        data={"csrf_token": token, "login": "ana", "password": PASSWORD},
        headers={"Origin": FOREIGN},
    )

    assert refused.status_code == 403
    assert "own pages" in refused.get_data(as_text=True)
    assert count(app, WebSession) == sessions_before
    assert client.get("/dashboard").status_code == 302  # still logged out


def test_a_logout_from_a_foreign_page_is_refused(
    client: FlaskClient, make_user: Callable[..., User]
) -> None:
    make_user("ana")
    login(client)
    token = csrf_token(client, "/dashboard")

    refused = client.post("/logout", data={"csrf_token": token}, headers={"Origin": FOREIGN})

    assert refused.status_code == 403
    assert client.get("/dashboard").status_code == 200  # still logged in


def test_scripts_with_a_bearer_token_are_not_asked_where_they_come_from(
    app: Flask, client: FlaskClient, make_user: Callable[..., User]
) -> None:
    ana, bob = make_user("ana"), make_user("bob")
    conversation_id = direct(app, ana, bob)
    with app.app_context():
        _, secret = tokens.create_token(db.session.get(User, ana.id), "script")

    answer = client.post(
        f"/api/v1/conversations/{conversation_id}/messages",
        json={"body": "from a script"},
        headers={**bearer(secret), "Origin": FOREIGN},
    )

    assert answer.status_code == 201
    assert count(app, Message) == 1
    assert count(app, ApiToken) == 1
