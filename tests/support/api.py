"""The JSON API as the tests call it: its paths, its one error shape, chat calls, table rows."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from flask import Flask
from sqlalchemy import select
from werkzeug.test import TestResponse

from hubbub.models import (
    Attachment,
    Conversation,
    Membership,
    Mention,
    Message,
    MessageRevision,
    Reaction,
    db,
)
from tests.support import count

if TYPE_CHECKING:
    # Only for annotations: people.py imports this module (a Person takes its token here).
    from tests.support.people import Person

API = "/api/v1"
CONVERSATIONS = f"{API}/conversations"
CHAT_MODELS: tuple[Any, ...] = (
    Message,
    Attachment,
    MessageRevision,
    Conversation,
    Membership,
    Mention,
    Reaction,
)
MESSAGE_KEYS = {
    "id",
    "conversation_id",
    "sender",
    "body",
    "html",
    "mentions",
    "created_at",
    "edited_at",
    "deleted_at",
    "client_id",
    "reply_to",
    "reactions",
    "attachments",
}


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


def typing_url(conversation_id: int | str) -> str:
    return f"{conversation_url(conversation_id)}/typing"


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
