"""Arranging chats through the services (groups, messages, roles) and racing threads at them."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from flask import Flask
from sqlalchemy import func, select, update

from hubbub.models import Conversation, Membership, Message, User, db
from hubbub.services import conversations, messages
from tests.support.people import as_user

T = TypeVar("T")

# Generous guards so a deadlock fails the test instead of hanging the run; not timings.
HANG_GUARD_SECONDS = 60


def rows(app: Flask, model: Any, *where: Any) -> int:
    """How many rows of model match the conditions, read fresh from the database."""
    with app.app_context():
        query = select(func.count()).select_from(model)
        for condition in where:
            query = query.where(condition)
        return int(db.session.scalar(query) or 0)


def new_group(app: Flask, owner_id: int, member_ids: list[int], title: str = "Team") -> int:
    with app.app_context():
        return conversations.create_group(as_user(owner_id), title, member_ids).id


def new_direct(app: Flask, user_id: int, other_id: int) -> int:
    with app.app_context():
        return conversations.open_direct(as_user(user_id), other_id)[0].id


def post(app: Flask, sender_id: int, conversation_id: int, body: str = "hello") -> int:
    with app.app_context():
        return messages.send_message(as_user(sender_id), conversation_id, body)[0].id


def role_of(app: Flask, conversation_id: int, user_id: int) -> str | None:
    """The person's role, or None when they are not (or no longer) in the conversation."""
    with app.app_context():
        membership = db.session.get(Membership, (conversation_id, user_id))
        if membership is None or membership.left_at is not None:
            return None
        return membership.role


def set_role(app: Flask, conversation_id: int, user_id: int, role: str) -> None:
    """Arrange a role directly in the database, bypassing the rules under test."""
    _update_membership(app, conversation_id, user_id, role=role)


def set_joined_at(app: Flask, conversation_id: int, user_id: int, when: datetime) -> None:
    _update_membership(app, conversation_id, user_id, joined_at=when)


def _update_membership(app: Flask, conversation_id: int, user_id: int, **values: Any) -> None:
    with app.app_context():
        result = db.session.execute(
            update(Membership)
            .where(Membership.conversation_id == conversation_id, Membership.user_id == user_id)
            .values(**values)
        )
        assert result.rowcount == 1  # type: ignore[attr-defined]
        db.session.commit()


def set_last_activity(app: Flask, conversation_id: int, when: datetime) -> None:
    with app.app_context():
        db.session.execute(
            update(Conversation)
            .where(Conversation.id == conversation_id)
            .values(last_activity_at=when)
        )
        db.session.commit()


def deactivate(app: Flask, user_id: int) -> None:
    with app.app_context():
        db.session.execute(update(User).where(User.id == user_id).values(is_active=False))
        db.session.commit()


def message_body(app: Flask, message_id: int) -> str | None:
    with app.app_context():
        message = db.session.get(Message, message_id)
        assert message is not None
        return message.body


def race(app: Flask, threads: int, user_id: int, act: Callable[[User], T]) -> list[T]:
    """Run act(user) in `threads` threads at once, each in its own app context and session.

    A barrier releases every thread together once each has its user loaded, so the calls
    overlap as closely as the machine allows. Any exception in a thread fails the caller.
    """
    return race_each(app, [user_id] * threads, act)


def race_each(app: Flask, user_ids: list[int], act: Callable[[User], T]) -> list[T]:
    """Like race(), with one thread per user id given; results in no particular order."""
    threads = len(user_ids)
    barrier = threading.Barrier(threads)
    results: list[T] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def worker(user_id: int) -> None:
        try:
            with app.app_context():
                user = as_user(user_id)
                barrier.wait(timeout=HANG_GUARD_SECONDS)
                result = act(user)
            with lock:
                results.append(result)
        except BaseException as error:  # re-raised in the calling thread
            barrier.abort()
            with lock:
                errors.append(error)

    workers = [threading.Thread(target=worker, args=(user_id,)) for user_id in user_ids]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join(timeout=HANG_GUARD_SECONDS)
    assert not any(thread.is_alive() for thread in workers), "a thread is stuck"
    if errors:
        raise errors[0]
    assert len(results) == threads
    return results
