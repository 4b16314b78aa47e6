"""POST /api/v1/accounts and GET /api/v1/me through HTTP: answers, error shape, no stray writes."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from hubbub.models import User
from tests.support import PASSWORD, bearer, count, login
from tests.support.api import assert_error

MakeUser = Callable[..., User]
ACCOUNTS = "/api/v1/accounts"
VALID = {"username": "ana", "email": "ana@example.com", "password": PASSWORD}


def test_create_account_answers_201_with_the_private_user(app: Flask, client: FlaskClient) -> None:
    response = client.post(ACCOUNTS, json={**VALID, "username": "Ana", "email": "Ana@Example.com"})
    assert response.status_code == 201
    user = response.get_json()["user"]
    assert set(user) == {"id", "username", "display_name", "email", "created_at"}
    assert (user["username"], user["email"]) == ("ana", "ana@example.com")
    assert isinstance(user["id"], int)
    assert user["created_at"].endswith("Z")
    assert count(app, User) == 1


def test_created_account_can_log_in(app: Flask, client: FlaskClient) -> None:
    assert client.post(ACCOUNTS, json=VALID).status_code == 201
    assert login(app.test_client(), "ana", PASSWORD).status_code == 302


def test_create_account_answer_never_holds_the_password(client: FlaskClient) -> None:
    response = client.post(ACCOUNTS, json=VALID)
    text = response.get_data(as_text=True)
    assert PASSWORD not in text
    assert "argon2" not in text


@pytest.mark.parametrize("missing", ["username", "email", "password"])
def test_missing_field_is_422(app: Flask, client: FlaskClient, missing: str) -> None:
    body = {key: value for key, value in VALID.items() if key != missing}
    error = assert_error(client.post(ACCOUNTS, json=body), 422, "invalid")
    assert set(error["fields"]) == {missing}
    assert count(app, User) == 0


def test_empty_object_reports_every_missing_field(app: Flask, client: FlaskClient) -> None:
    error = assert_error(client.post(ACCOUNTS, json={}), 422, "invalid")
    assert set(error["fields"]) == {"username", "email", "password"}
    assert count(app, User) == 0


@pytest.mark.parametrize(
    ("field", "value"),
    [("username", 5), ("username", None), ("email", ["ana@example.com"]), ("password", True)],
)
def test_wrong_type_is_422(app: Flask, client: FlaskClient, field: str, value: Any) -> None:
    error = assert_error(client.post(ACCOUNTS, json={**VALID, field: value}), 422, "invalid")
    assert set(error["fields"]) == {field}
    assert count(app, User) == 0


@pytest.mark.parametrize("body", [[VALID], "ana", 5], ids=["array", "string", "number"])
def test_body_that_is_not_an_object_is_422(app: Flask, client: FlaskClient, body: Any) -> None:
    assert_error(client.post(ACCOUNTS, json=body), 422, "invalid")
    assert count(app, User) == 0


@pytest.mark.parametrize(("field", "value"), [("is_active", False), ("id", 7), ("admin", True)])
def test_unknown_field_is_422(app: Flask, client: FlaskClient, field: str, value: Any) -> None:
    error = assert_error(client.post(ACCOUNTS, json={**VALID, field: value}), 422, "invalid")
    assert set(error["fields"]) == {field}
    assert count(app, User) == 0


@pytest.mark.parametrize(
    ("field", "value"),
    [("username", "ab"), ("username", "a/b"), ("email", "not-an-email"), ("password", "too short")],
)
def test_invalid_value_is_422_with_the_field(
    app: Flask, client: FlaskClient, field: str, value: str
) -> None:
    error = assert_error(client.post(ACCOUNTS, json={**VALID, field: value}), 422, "invalid")
    assert set(error["fields"]) == {field}
    assert count(app, User) == 0


def test_common_password_is_422(app: Flask, client: FlaskClient) -> None:
    response = client.post(ACCOUNTS, json={**VALID, "password": "qwerty123456"})
    error = assert_error(response, 422, "invalid")
    assert set(error["fields"]) == {"password"}
    assert count(app, User) == 0


@pytest.mark.parametrize("data", ['{"username": "ana",', "", "{'username': 'ana'}"])
def test_malformed_json_is_400(app: Flask, client: FlaskClient, data: str) -> None:
    response = client.post(ACCOUNTS, data=data, content_type="application/json")
    assert_error(response, 400, "malformed_json")
    assert count(app, User) == 0


@pytest.mark.parametrize("content_type", ["application/x-www-form-urlencoded", "text/plain"])
def test_body_without_json_content_type_is_415(
    app: Flask, client: FlaskClient, content_type: str
) -> None:
    data = json.dumps(VALID) if content_type == "text/plain" else VALID
    response = client.post(ACCOUNTS, data=data, content_type=content_type)
    assert_error(response, 415, "unsupported_media_type")
    assert count(app, User) == 0


def test_body_over_one_mebibyte_is_413(app: Flask, client: FlaskClient) -> None:
    padded = json.dumps({**VALID, "padding": "x" * (1024 * 1024)})
    response = client.post(ACCOUNTS, data=padded, content_type="application/json")
    assert_error(response, 413, "payload_too_large")
    assert response.headers["Cache-Control"] == "no-store"
    assert count(app, User) == 0


def test_duplicate_username_in_another_case_is_409(
    app: Flask, client: FlaskClient, make_user: MakeUser
) -> None:
    make_user("ana", email="first@example.com")
    response = client.post(ACCOUNTS, json={**VALID, "username": "ANA"})
    error = assert_error(response, 409, "conflict")
    assert set(error["fields"]) == {"username"}
    assert count(app, User) == 1


def test_duplicate_email_in_another_case_is_409(
    app: Flask, client: FlaskClient, make_user: MakeUser
) -> None:
    make_user("first", email="ana@example.com")
    response = client.post(ACCOUNTS, json={**VALID, "email": "ANA@EXAMPLE.COM"})
    error = assert_error(response, 409, "conflict")
    assert set(error["fields"]) == {"email"}
    assert count(app, User) == 1


def test_account_answers_are_not_cached(client: FlaskClient) -> None:
    assert client.post(ACCOUNTS, json=VALID).headers["Cache-Control"] == "no-store"
    assert client.post(ACCOUNTS, json={}).headers["Cache-Control"] == "no-store"


# GET /api/v1/me


def test_me_without_credentials_is_401(client: FlaskClient) -> None:
    response = client.get("/api/v1/me")
    assert_error(response, 401, "unauthenticated")
    assert response.headers["Cache-Control"] == "no-store"


def test_me_with_a_token_is_the_owner_with_email(client: FlaskClient, make_user: MakeUser) -> None:
    ana = make_user("ana")
    make_user("bob")
    created = client.post("/api/v1/tokens", json={"login": "ana", "password": PASSWORD})
    response = client.get("/api/v1/me", headers=bearer(created.get_json()["token"]))
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    user = response.get_json()["user"]
    assert (user["id"], user["username"], user["email"]) == (ana.id, "ana", "ana@example.com")


def test_me_with_a_browser_session_is_the_logged_in_user(
    client: FlaskClient, make_user: MakeUser
) -> None:
    make_user("ana")
    assert login(client, "ana").status_code == 302
    response = client.get("/api/v1/me")
    assert response.status_code == 200
    assert response.get_json()["user"]["username"] == "ana"
