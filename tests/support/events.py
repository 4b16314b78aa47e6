"""The event log as the tests read it: straight from the database, and its counter."""

from __future__ import annotations

import json
from typing import Any

from flask import Flask
from sqlalchemy import select

from hubbub.models import Event, EventCounter, db

Logged = dict[str, Any]
# Where the wake_ups fixture keeps, on the app, what the app's bus published.
WAKE_UPS = "tests.wake_ups"


def log(app: Flask, after: int = 0) -> list[Logged]:
    """The stored events after an id, oldest first, with their data decoded."""
    with app.app_context():
        rows = db.session.scalars(select(Event).where(Event.id > after).order_by(Event.id))
        found = [
            {
                "id": row.id,
                "type": row.type,
                "conversation_id": row.conversation_id,
                "user_id": row.user_id,
                "data": json.loads(row.data),
            }
            for row in rows
        ]
        db.session.remove()
    return found


def counter(app: Flask) -> int:
    """The counter row's last id, read fresh."""
    with app.app_context():
        value = db.session.scalar(select(EventCounter.last_id))
        db.session.remove()
    assert value is not None
    return int(value)


def appended(app: Flask, mark: int) -> list[Logged]:
    """The events written since mark; checks they took the next ids and the counter followed."""
    found = log(app, mark)
    assert [e["id"] for e in found] == list(range(mark + 1, mark + 1 + len(found)))
    assert counter(app) == (found[-1]["id"] if found else mark)
    return found


def ids(found: list[Logged]) -> list[int]:
    return [e["id"] for e in found]
