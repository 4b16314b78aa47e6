"""Mute: one member's own setting, told to that member's devices alone."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask

from hubbub.models import Event, User
from hubbub.services import conversations, reads
from hubbub.services.errors import NotFound
from tests.support.chat import new_group, rows
from tests.support.people import as_user, people
from tests.support.streams import logged_events

MakeUser = Callable[..., User]


def muted(app: Flask, user: int) -> dict[int, bool]:
    with app.app_context():
        return {
            s.conversation.id: s.membership.muted
            for s in conversations.list_conversations(as_user(user))
        }


def test_muting_is_mine_alone_and_emits_one_event_to_me(app: Flask, make_user: MakeUser) -> None:
    ana, ben = people(make_user, "ana", "ben")
    group = new_group(app, ana, [ben])
    quiet = new_group(app, ana, [ben], title="Other")
    start = logged_events(app)[-1]["id"]
    with app.app_context():
        summary = reads.set_muted(as_user(ben), group, True)
        assert summary.membership.muted
    assert muted(app, ben) == {group: True, quiet: False}
    assert muted(app, ana) == {group: False, quiet: False}
    # Muting again changes nothing.
    with app.app_context():
        reads.set_muted(as_user(ben), group, True)
        reads.set_muted(as_user(ben), group, False)
        reads.set_muted(as_user(ben), group, False)
    assert muted(app, ben) == {group: False, quiet: False}
    events = [
        (e["type"], e["conversation_id"], e["user_id"], e["data"])
        for e in logged_events(app, start)
    ]
    assert events == [
        ("mute.updated", group, ben, {"user_id": ben, "muted": True}),
        ("mute.updated", group, ben, {"user_id": ben, "muted": False}),
    ]


def test_outsiders_cannot_mute(app: Flask, make_user: MakeUser) -> None:
    ana, ben, eve = people(make_user, "ana", "ben", "eve")
    group = new_group(app, ana, [ben])
    before = rows(app, Event)
    with app.app_context(), pytest.raises(NotFound):
        reads.set_muted(as_user(eve), group, True)
    assert rows(app, Event) == before
    assert muted(app, ana) == {group: False}
