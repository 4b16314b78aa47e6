"""`flask users deactivate NAME` and `flask users activate NAME`, as an operator runs them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from click.testing import Result
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from hubbub.models import ApiToken, Message, User, WebSession, db
from hubbub.services.accounts import BAD_CREDENTIALS
from tests.support import PASSWORD, bearer, count, login
from tests.support.api import API, open_direct, send
from tests.support.people import Person, person

MakeUser = Callable[..., User]
NO_SUCH_USER = "There is no user with that username."


def users(app: Flask, *args: str) -> Result:
    return app.test_cli_runner().invoke(args=["users", *args])


def rows_of(app: Flask, model: Any, user_id: int) -> int:
    with app.app_context():
        found = db.session.scalar(
            select(func.count()).select_from(model).where(model.user_id == user_id)
        )
        db.session.remove()
    return int(found or 0)


def is_active(app: Flask, username: str) -> bool:
    with app.app_context():
        value = db.session.scalar(select(User.is_active).where(User.username == username))
        db.session.remove()
    assert value is not None
    return bool(value)


def logged_in(app: Flask, username: str, password: str = PASSWORD) -> FlaskClient:
    client = app.test_client()
    response = login(client, username, password)
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def me(app: Flask, token: str) -> int:
    return app.test_client().get(f"{API}/me", headers=bearer(token)).status_code


def new_token(app: Flask, username: str) -> Any:
    return app.test_client().post(f"{API}/tokens", json={"login": username, "password": PASSWORD})


# ---- what the commands say -------------------------------------------------------------------


def test_deactivate_says_what_it_did_and_exits_0(app: Flask, make_user: MakeUser) -> None:
    make_user("ana")
    result = users(app, "deactivate", "ana")
    assert result.exit_code == 0, result.output
    assert result.output == "ana is deactivated; their sessions and tokens are gone.\n"
    assert not is_active(app, "ana")


def test_activate_says_what_it_did_and_exits_0(app: Flask, make_user: MakeUser) -> None:
    make_user("ana")
    assert users(app, "deactivate", "ana").exit_code == 0
    result = users(app, "activate", "ana")
    assert result.exit_code == 0, result.output
    assert result.output == "ana can log in again.\n"
    assert is_active(app, "ana")


def test_the_username_is_matched_as_logins_match_it(app: Flask, make_user: MakeUser) -> None:
    make_user("ana")
    result = users(app, "deactivate", "  ANA ")
    assert result.exit_code == 0, result.output
    assert not is_active(app, "ana")


def test_running_either_command_twice_is_harmless(app: Flask, make_user: MakeUser) -> None:
    make_user("ana")
    for _ in range(2):
        assert users(app, "deactivate", "ana").exit_code == 0
        assert not is_active(app, "ana")
    for _ in range(2):
        assert users(app, "activate", "ana").exit_code == 0
        assert is_active(app, "ana")


@pytest.mark.parametrize("command", ["deactivate", "activate"])
def test_an_unknown_user_fails_with_a_message_and_changes_nothing(
    app: Flask, make_user: MakeUser, command: str
) -> None:
    make_user("ana")
    logged_in(app, "ana")
    sessions, tokens = count(app, WebSession), count(app, ApiToken)

    result = users(app, command, "nobody")

    assert result.exit_code != 0
    assert NO_SUCH_USER in result.output
    assert NO_SUCH_USER in result.stderr
    assert result.stdout == ""
    assert is_active(app, "ana")
    assert (count(app, WebSession), count(app, ApiToken)) == (sessions, tokens)


def test_a_missing_username_is_a_usage_error(app: Flask) -> None:
    result = users(app, "deactivate")
    assert result.exit_code == 2
    assert "USERNAME" in result.output


# ---- what deactivation removes and keeps -----------------------------------------------------


def test_deactivation_deletes_that_users_sessions_and_tokens_and_keeps_their_messages(
    app: Flask, make_user: MakeUser
) -> None:
    ana: Person = person(app, make_user, "ana")
    ben: Person = person(app, make_user, "ben")
    assert new_token(app, "ana").status_code == 201  # a second token
    for name in ("ana", "ana", "ben"):
        logged_in(app, name)
    conversation = open_direct(ana, ben)
    send(ana, conversation["id"], "hello from ana")
    send(ben, conversation["id"], "hello from ben")
    assert (rows_of(app, WebSession, ana.id), rows_of(app, ApiToken, ana.id)) == (2, 2)
    assert (rows_of(app, WebSession, ben.id), rows_of(app, ApiToken, ben.id)) == (1, 1)
    messages, people = count(app, Message), count(app, User)

    assert users(app, "deactivate", "ana").exit_code == 0

    assert (rows_of(app, WebSession, ana.id), rows_of(app, ApiToken, ana.id)) == (0, 0)
    assert (rows_of(app, WebSession, ben.id), rows_of(app, ApiToken, ben.id)) == (1, 1)
    assert count(app, Message) == messages == 2
    assert count(app, User) == people
    # ben still reads both messages, ana's included.
    answer = ben.get(f"{API}/conversations/{conversation['id']}/messages")
    assert answer.status_code == 200, answer.get_data(as_text=True)
    bodies = {m["body"] for m in answer.get_json()["messages"]}
    assert bodies == {"hello from ana", "hello from ben"}


def test_activation_restores_nothing_deactivation_deleted(app: Flask, make_user: MakeUser) -> None:
    ana = person(app, make_user, "ana")
    logged_in(app, "ana")
    assert users(app, "deactivate", "ana").exit_code == 0
    assert users(app, "activate", "ana").exit_code == 0
    assert (rows_of(app, WebSession, ana.id), rows_of(app, ApiToken, ana.id)) == (0, 0)


# ---- a deactivated user is kept out, until activated -----------------------------------------


def test_a_deactivated_user_is_kept_out_until_activated(app: Flask, make_user: MakeUser) -> None:
    ana = person(app, make_user, "ana")
    browser = logged_in(app, "ana")
    assert browser.get("/dashboard").status_code == 200
    assert me(app, ana.token) == 200

    assert users(app, "deactivate", "ana").exit_code == 0

    # The open browser session is over.
    answer = browser.get("/dashboard")
    assert answer.status_code == 302
    assert answer.headers["Location"].startswith("/login")
    assert browser.get(f"{API}/me").status_code == 401
    # The token is refused.
    refused = app.test_client().get(f"{API}/me", headers=bearer(ana.token))
    assert refused.status_code == 401
    assert refused.get_json()["error"]["code"] == "invalid_token"
    # Logging in, by the form or for a token, is refused like a wrong password.
    form = login(app.test_client(), "ana")
    assert form.status_code == 401
    assert BAD_CREDENTIALS in form.get_data(as_text=True)
    assert new_token(app, "ana").status_code == 401
    assert rows_of(app, WebSession, ana.id) == 0

    assert users(app, "activate", "ana").exit_code == 0

    again = logged_in(app, "ana")
    assert again.get("/dashboard").status_code == 200
    fresh = new_token(app, "ana")
    assert fresh.status_code == 201, fresh.get_data(as_text=True)
    assert me(app, fresh.get_json()["token"]) == 200
    # The token from before stays revoked.
    assert me(app, ana.token) == 401


def test_deactivating_one_user_leaves_the_others_in(app: Flask, make_user: MakeUser) -> None:
    person(app, make_user, "ana")
    ben = person(app, make_user, "ben")
    ben_browser = logged_in(app, "ben")

    assert users(app, "deactivate", "ana").exit_code == 0

    assert ben_browser.get("/dashboard").status_code == 200
    assert me(app, ben.token) == 200
    assert login(app.test_client(), "ben").status_code == 302
