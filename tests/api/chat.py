"""Helpers for the chat API tests: people with bearer tokens, the error shape, table snapshots."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from hubbub.models import Conversation, Membership, Message, MessageRevision, User, db
from tests.support import PASSWORD, bearer, count

MakeUser = Callable[..., User]
API = "/api/v1"
CONVERSATIONS = f"{API}/conversations"
CHAT_MODELS: tuple[Any, ...] = (Message, MessageRevision, Conversation, Membership)
MESSAGE_KEYS = {
    "id",
    "conversation_id",
    "sender",
    "body",
    "created_at",
    "edited_at",
    "deleted_at",
    "client_id",
}


@dataclass
class Person:
    """Someone using the API the way curl would: their own client and a bearer token."""

    user: User
    token: str
    client: FlaskClient

    @property
    def id(self) -> int:
        return self.user.id

    def _headers(self, headers: dict[str, str] | None) -> dict[str, str]:
        return {**bearer(self.token), **(headers or {})}

    def get(self, path: str, **kwargs: Any) -> TestResponse:
        return self.client.get(path, headers=self._headers(kwargs.pop("headers", None)), **kwargs)

    def post(self, path: str, **kwargs: Any) -> TestResponse:
        return self.client.post(path, headers=self._headers(kwargs.pop("headers", None)), **kwargs)

    def patch(self, path: str, **kwargs: Any) -> TestResponse:
        return self.client.patch(path, headers=self._headers(kwargs.pop("headers", None)), **kwargs)

    def delete(self, path: str, **kwargs: Any) -> TestResponse:
        headers = self._headers(kwargs.pop("headers", None))
        return self.client.delete(path, headers=headers, **kwargs)

    def request(self, method: str, path: str, **kwargs: Any) -> TestResponse:
        headers = self._headers(kwargs.pop("headers", None))
        return self.client.open(path, method=method, headers=headers, **kwargs)


def person(app: Flask, make_user: MakeUser, username: str) -> Person:
    """Register username, then get a token with POST /api/v1/tokens as a script would."""
    user = make_user(username)
    client = app.test_client()
    response = client.post(f"{API}/tokens", json={"login": username, "password": PASSWORD})
    assert response.status_code == 201, response.get_data(as_text=True)
    # A fresh client, so that nothing but the bearer token identifies the caller.
    return Person(user=user, token=response.get_json()["token"], client=app.test_client())


def ok(response: TestResponse, status: int = 200) -> dict[str, Any]:
    """Assert the status and return the JSON answer."""
    assert response.status_code == status, response.get_data(as_text=True)
    body: dict[str, Any] = response.get_json()
    return body


def assert_error(response: TestResponse, status: int, code: str | None = None) -> dict[str, Any]:
    """Check the one JSON error shape and return its error object."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.is_json, response.get_data(as_text=True)
    body = response.get_json()
    assert set(body) == {"error"}
    error: dict[str, Any] = body["error"]
    assert {"code", "message"} <= set(error) <= {"code", "message", "fields"}
    assert isinstance(error["code"], str) and error["code"]
    assert isinstance(error["message"], str) and error["message"]
    if code is not None:
        assert error["code"] == code
    return error


def parse_time(value: str) -> datetime:
    """An ISO 8601 UTC time as the API must write it: ending in Z or +00:00."""
    assert value.endswith(("Z", "+00:00")), value
    parsed = datetime.fromisoformat(value)
    assert parsed.utcoffset() == UTC.utcoffset(None)
    return parsed


def open_direct(who: Person, other: Person) -> dict[str, Any]:
    response = who.post(CONVERSATIONS, json={"kind": "direct", "user_id": other.id})
    assert response.status_code in (200, 201), response.get_data(as_text=True)
    conversation: dict[str, Any] = response.get_json()["conversation"]
    return conversation


def create_group(owner: Person, title: str, *members: Person) -> dict[str, Any]:
    body = {"kind": "group", "title": title, "member_ids": [m.id for m in members]}
    conversation: dict[str, Any] = ok(owner.post(CONVERSATIONS, json=body), 201)["conversation"]
    return conversation


def send(who: Person, conversation_id: int, body: str, **extra: Any) -> dict[str, Any]:
    response = who.post(messages_url(conversation_id), json={"body": body, **extra})
    message: dict[str, Any] = ok(response, 201)["message"]
    return message


def conversation_url(conversation_id: int | str) -> str:
    return f"{CONVERSATIONS}/{conversation_id}"


def messages_url(conversation_id: int | str) -> str:
    return f"{CONVERSATIONS}/{conversation_id}/messages"


def members_url(conversation_id: int | str, user_id: int | str | None = None) -> str:
    base = f"{CONVERSATIONS}/{conversation_id}/members"
    return base if user_id is None else f"{base}/{user_id}"


def message_url(message_id: int | str) -> str:
    return f"{API}/messages/{message_id}"


def counts(app: Flask) -> dict[str, int]:
    """Rows per chat table, read fresh from the database."""
    return {model.__name__: count(app, model) for model in CHAT_MODELS}


def snapshot(app: Flask) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every chat table, every column, in primary-key order."""
    rows: dict[str, list[tuple[Any, ...]]] = {}
    with app.app_context():
        for model in CHAT_MODELS:
            table = model.__table__
            query = select(table).order_by(*table.primary_key.columns)
            rows[model.__name__] = [tuple(row) for row in db.session.execute(query)]
        db.session.remove()
    return rows
