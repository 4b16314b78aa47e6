"""Personal API tokens through HTTP: create with a password or a session, list, revoke, use."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update
from werkzeug.test import TestResponse

from hubbub.models import ApiToken, User, db
from tests.support import PASSWORD, bearer, count, csrf_token, login
from tests.support.api import assert_error

MakeUser = Callable[..., User]
TOKENS = "/api/v1/tokens"
ME = "/api/v1/me"


def create(client: FlaskClient, login_as: str = "ana", name: str | None = "laptop") -> Any:
    body: dict[str, Any] = {"login": login_as, "password": PASSWORD}
    if name is not None:
        body["name"] = name
    response = client.post(TOKENS, json=body)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


def me(client: FlaskClient, secret: str) -> TestResponse:
    return client.get(ME, headers=bearer(secret))


# Creating with login and password


@pytest.mark.parametrize("login_as", ["ana", "ANA", "ana@example.com"])
def test_create_token_with_password_answers_201_once_with_the_secret(
    app: Flask, client: FlaskClient, make_user: MakeUser, login_as: str
) -> None:
    make_user("ana")
    response = client.post(TOKENS, json={"login": login_as, "password": PASSWORD, "name": "ci"})
    assert response.status_code == 201
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert {"id", "token", "name"} <= set(body)
    assert body["name"] == "ci"
    assert body["token"].startswith("hbb_")
    assert count(app, ApiToken) == 1


def test_created_token_authenticates_its_owner(client: FlaskClient, make_user: MakeUser) -> None:
    ana = make_user("ana")
    make_user("bob")
    secret = create(client)["token"]
    response = me(client, secret)
    assert response.status_code == 200
    assert response.get_json()["user"]["id"] == ana.id


def test_token_name_defaults_when_omitted(client: FlaskClient, make_user: MakeUser) -> None:
    make_user("ana")
    assert create(client, name=None)["name"] == "API token"


def test_token_name_over_64_characters_is_422(
    app: Flask, client: FlaskClient, make_user: MakeUser
) -> None:
    make_user("ana")
    response = client.post(TOKENS, json={"login": "ana", "password": PASSWORD, "name": "n" * 65})
    error = assert_error(response, 422, "invalid")
    assert set(error["fields"]) == {"name"}
    assert count(app, ApiToken) == 0


def test_wrong_password_and_unknown_user_get_the_same_401(
    app: Flask, client: FlaskClient, make_user: MakeUser
) -> None:
    make_user("ana")
    wrong = client.post(TOKENS, json={"login": "ana", "password": "not the password at all"})
    unknown = client.post(TOKENS, json={"login": "nobody", "password": PASSWORD})
    wrong_error = assert_error(wrong, 401)
    assert wrong_error == assert_error(unknown, 401)
    assert count(app, ApiToken) == 0


def test_deactivated_user_gets_the_same_401(
    app: Flask, client: FlaskClient, make_user: MakeUser
) -> None:
    ana = make_user("ana")
    with app.app_context():
        db.session.execute(update(User).where(User.id == ana.id).values(is_active=False))
        db.session.commit()
    deactivated = client.post(TOKENS, json={"login": "ana", "password": PASSWORD})
    unknown = client.post(TOKENS, json={"login": "nobody", "password": PASSWORD})
    assert assert_error(deactivated, 401) == assert_error(unknown, 401)
    assert count(app, ApiToken) == 0


@pytest.mark.parametrize(
    "body",
    [{"login": "ana"}, {"password": PASSWORD}, {"login": "ana", "password": ""}],
    ids=["no-password", "no-login", "empty-password"],
)
def test_incomplete_credentials_are_401(
    app: Flask, client: FlaskClient, make_user: MakeUser, body: dict[str, str]
) -> None:
    make_user("ana")
    assert_error(client.post(TOKENS, json=body), 401)
    assert count(app, ApiToken) == 0


def test_anonymous_request_without_credentials_is_401(
    app: Flask, client: FlaskClient, make_user: MakeUser
) -> None:
    make_user("ana")
    assert_error(client.post(TOKENS, json={"name": "laptop"}), 401, "unauthenticated")
    assert count(app, ApiToken) == 0


def test_login_containing_a_nul_character_is_401(
    app: Flask, client: FlaskClient, make_user: MakeUser
) -> None:
    make_user("ana")
    response = client.post(TOKENS, json={"login": "ana\x00", "password": PASSWORD})
    assert_error(response, 401)
    assert count(app, ApiToken) == 0


def test_token_name_containing_a_nul_character_is_422(
    app: Flask, client: FlaskClient, make_user: MakeUser
) -> None:
    # The same refusal on both databases; PostgreSQL cannot store NUL in text at all.
    make_user("ana")
    response = client.post(TOKENS, json={"login": "ana", "password": PASSWORD, "name": "a\x00b"})
    error = assert_error(response, 422, "invalid")
    assert set(error["fields"]) == {"name"}
    assert count(app, ApiToken) == 0


@pytest.mark.parametrize(
    "body",
    [{"login": 5, "password": PASSWORD}, {"login": "ana", "password": PASSWORD, "scope": "all"}],
    ids=["wrong-type", "unknown-field"],
)
def test_bad_token_request_body_is_422(
    app: Flask, client: FlaskClient, make_user: MakeUser, body: dict[str, Any]
) -> None:
    make_user("ana")
    assert_error(client.post(TOKENS, json=body), 422, "invalid")
    assert count(app, ApiToken) == 0


# Listing


def test_list_never_shows_the_secret_or_its_hash(client: FlaskClient, make_user: MakeUser) -> None:
    make_user("ana")
    created = create(client)
    secret = created["token"]
    response = client.get(TOKENS, headers=bearer(secret))
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    text = response.get_data(as_text=True)
    assert secret.removeprefix("hbb_") not in text
    assert hashlib.sha256(secret.encode()).hexdigest() not in text
    listed = response.get_json()["tokens"]
    assert [token["id"] for token in listed] == [created["id"]]
    assert set(listed[0]) == {"id", "name", "created_at", "last_used_at"}


def test_list_shows_only_the_callers_tokens(client: FlaskClient, make_user: MakeUser) -> None:
    make_user("ana")
    make_user("bob")
    first, second = create(client, name="one"), create(client, name="two")
    create(client, "bob", name="bobs")
    listed = client.get(TOKENS, headers=bearer(first["token"])).get_json()["tokens"]
    assert [(t["id"], t["name"]) for t in listed] == [(first["id"], "one"), (second["id"], "two")]


def test_list_without_credentials_is_401(client: FlaskClient) -> None:
    assert_error(client.get(TOKENS), 401, "unauthenticated")


# Revoking


def test_revoked_token_no_longer_authenticates(
    app: Flask, client: FlaskClient, make_user: MakeUser
) -> None:
    make_user("ana")
    doomed, kept = create(client, name="old"), create(client, name="new")
    response = client.delete(f"{TOKENS}/{doomed['id']}", headers=bearer(kept["token"]))
    assert response.status_code == 204
    assert response.headers["Cache-Control"] == "no-store"
    assert_error(me(client, doomed["token"]), 401, "invalid_token")
    assert me(client, kept["token"]).status_code == 200
    assert count(app, ApiToken) == 1


def test_token_can_revoke_itself(app: Flask, client: FlaskClient, make_user: MakeUser) -> None:
    make_user("ana")
    token = create(client)
    response = client.delete(f"{TOKENS}/{token['id']}", headers=bearer(token["token"]))
    assert response.status_code == 204
    assert_error(me(client, token["token"]), 401)
    assert count(app, ApiToken) == 0


def test_revoking_another_users_token_is_404_and_it_keeps_working(
    app: Flask, client: FlaskClient, make_user: MakeUser
) -> None:
    make_user("ana")
    make_user("bob")
    anas, bobs = create(client), create(client, "bob")
    response = client.delete(f"{TOKENS}/{anas['id']}", headers=bearer(bobs["token"]))
    assert_error(response, 404, "not_found")
    assert me(client, anas["token"]).status_code == 200
    assert count(app, ApiToken) == 2


def test_revoking_a_missing_token_is_404(client: FlaskClient, make_user: MakeUser) -> None:
    make_user("ana")
    token = create(client)
    response = client.delete(f"{TOKENS}/{token['id'] + 1000}", headers=bearer(token["token"]))
    assert_error(response, 404, "not_found")


def test_revoking_without_credentials_is_401(
    app: Flask, client: FlaskClient, make_user: MakeUser
) -> None:
    make_user("ana")
    token = create(client)
    assert_error(client.delete(f"{TOKENS}/{token['id']}"), 401)
    assert count(app, ApiToken) == 1


# The Authorization header


@pytest.mark.parametrize(
    "header",
    [
        "Basic x",
        "Basic YW5hOmEgbG9uZyBhbmQgcXVpZXQgcml2ZXI=",
        "Bearer",
        "Bearer ",
        "Bearer hbb_nope",
        "Token hbb_nope",
    ],
)
def test_malformed_authorization_header_is_401(
    client: FlaskClient, make_user: MakeUser, header: str
) -> None:
    make_user("ana")
    create(client)
    response = client.get(ME, headers={"Authorization": header})
    assert_error(response, 401, "invalid_token")
    assert response.headers["Cache-Control"] == "no-store"


def test_bare_secret_without_scheme_is_401(client: FlaskClient, make_user: MakeUser) -> None:
    make_user("ana")
    secret = create(client)["token"]
    assert_error(client.get(ME, headers={"Authorization": secret}), 401, "invalid_token")


def test_bad_authorization_header_is_not_rescued_by_a_session(
    client: FlaskClient, make_user: MakeUser
) -> None:
    make_user("ana")
    assert login(client, "ana").status_code == 302
    response = client.get(ME, headers={"Authorization": "Bearer hbb_nope"})
    assert_error(response, 401, "invalid_token")


# Creating from a browser session


def test_session_creates_a_token_with_the_csrf_header(
    app: Flask, client: FlaskClient, make_user: MakeUser
) -> None:
    ana = make_user("ana")
    assert login(client, "ana").status_code == 302
    headers = {"X-CSRFToken": csrf_token(client, "/dashboard")}
    response = client.post(TOKENS, json={"name": "from the browser"}, headers=headers)
    assert response.status_code == 201
    body = response.get_json()
    assert body["name"] == "from the browser"
    assert count(app, ApiToken) == 1
    anonymous = app.test_client()
    assert anonymous.get(ME, headers=bearer(body["token"])).get_json()["user"]["id"] == ana.id


@pytest.mark.parametrize("headers", [{}, {"X-CSRFToken": "forged"}], ids=["missing", "forged"])
def test_session_without_a_valid_csrf_header_is_403(
    app: Flask, client: FlaskClient, make_user: MakeUser, headers: dict[str, str]
) -> None:
    make_user("ana")
    assert login(client, "ana").status_code == 302
    response = client.post(TOKENS, json={"name": "from the browser"}, headers=headers)
    assert_error(response, 403, "csrf_failed")
    assert response.headers["Cache-Control"] == "no-store"
    assert count(app, ApiToken) == 0


def test_session_revoke_needs_the_csrf_header(
    app: Flask, client: FlaskClient, make_user: MakeUser
) -> None:
    make_user("ana")
    token = create(app.test_client())
    assert login(client, "ana").status_code == 302
    assert_error(client.delete(f"{TOKENS}/{token['id']}"), 403, "csrf_failed")
    assert count(app, ApiToken) == 1
    headers = {"X-CSRFToken": csrf_token(client, "/dashboard")}
    assert client.delete(f"{TOKENS}/{token['id']}", headers=headers).status_code == 204
    assert count(app, ApiToken) == 0


def test_a_token_cannot_create_tokens(app: Flask, client: FlaskClient, make_user: MakeUser) -> None:
    make_user("ana")
    secret = create(client)["token"]
    response = client.post(TOKENS, json={"name": "child"}, headers=bearer(secret))
    assert_error(response, 403, "forbidden")
    assert count(app, ApiToken) == 1


# Every answer under /api/


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/api/v1/nowhere"), ("PUT", TOKENS), ("GET", ME), ("POST", TOKENS)],
)
def test_every_api_answer_is_not_cached(client: FlaskClient, method: str, path: str) -> None:
    response = client.open(path, method=method)
    assert 400 <= response.status_code < 500
    assert response.is_json
    assert response.headers["Cache-Control"] == "no-store"
