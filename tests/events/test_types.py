"""Every event type is defined once (hubbub.events.types): what the services emit and readers
receive is exactly what its model, and so the OpenAPI document, describes."""

from __future__ import annotations

import ast
import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from pydantic import TypeAdapter, ValidationError

from hubbub.events.bus import Message, bus_of
from hubbub.events.feed import Feed
from hubbub.events.types import LOGGED, SIGNALS, AnyEvent, EventData, MemberRemoved
from hubbub.models import User
from hubbub.realtime.live import live_of
from hubbub.services import conversations, members, messages, reactions, reads, signals
from tests.support.chat import new_group, post
from tests.support.people import as_user, people

SERVICES = Path(conversations.__file__).parent
ANY_EVENT: TypeAdapter[Any] = TypeAdapter(AnyEvent)


def received(app: Flask, user_id: int) -> list[dict[str, Any]]:
    """Everything user_id's feed replays from the log's beginning."""
    with app.app_context():
        feed: Feed = live_of(app).feed(user_id, 0)
        try:
            found = []
            while feed.behind:
                found += [delivery.event for delivery in feed.poll()]
            return found
        finally:
            feed.close()


def test_every_logged_type_is_emitted_as_its_model_describes(
    app: Flask, make_user: Callable[..., User]
) -> None:
    ana, bob, cyd = people(make_user, "ana", "bob", "cyd")
    group = new_group(app, ana, [bob])
    with app.app_context():
        conversations.rename_group(as_user(ana), group, "Renamed")
        members.add_member(as_user(ana), group, cyd)
        members.change_role(as_user(ana), group, cyd, "admin")
    message = post(app, bob, group, "hello")
    with app.app_context():
        messages.edit_message(as_user(bob), message, "hello again")
        reactions.add_reaction(as_user(bob), message, "👍")
        reactions.remove_reaction(as_user(bob), message, "👍")
        reads.mark_read(as_user(ana), group, message)
        reads.set_muted(as_user(ana), group, True)
        messages.delete_message(as_user(bob), message)
        members.remove_member(as_user(ana), group, cyd)

    events = received(app, ana)
    for event in events:
        parsed = ANY_EVENT.validate_python(event)
        assert parsed.type == event["type"]
    assert {event["type"] for event in events} == {data.TYPE for data in LOGGED}


def test_each_signal_is_sent_as_its_model_describes(
    app: Flask, make_user: Callable[..., User]
) -> None:
    ana, bob = people(make_user, "ana", "bob")
    group = new_group(app, ana, [bob])
    heard: list[Message] = []
    for signal in SIGNALS:
        bus_of(app).observe(signal.TYPE, heard.append)
    with app.test_request_context():
        signals.announce_typing(as_user(ana), group)
        signals.announce_presence(ana, online=True)
        signals.announce_presence(ana, online=False)

    assert [message["kind"] for message in heard] == ["typing", "presence", "presence"]
    for message in heard:
        sent = {"type": message["kind"], "conversation_id": message.get("conversation_id")}
        ANY_EVENT.validate_python({**sent, "data": message["data"]})
    assert heard[2]["data"]["last_seen_at"] is not None


def test_data_that_does_not_fit_its_type_is_refused() -> None:
    """The models are strict enough to mean something: a wrong field fails."""
    with pytest.raises(ValidationError):
        ANY_EVENT.validate_python(
            {"id": 1, "type": "member.removed", "conversation_id": 1, "data": {"user_id": 1}}
        )
    with pytest.raises(ValidationError):
        MemberRemoved.model_validate({"user_id": 1, "by": 1, "reason": "kicked"})
    with pytest.raises(ValidationError):
        ANY_EVENT.validate_python({"id": 1, "type": "no.such", "conversation_id": 1, "data": {}})


def emitted_by(tree: ast.Module) -> dict[str, set[str]]:
    """Function name -> the event types it emits, itself or through the module's own helpers."""
    types = {data.__name__: data.TYPE for data in (*LOGGED, *SIGNALS)}
    direct: dict[str, set[str]] = {}
    calls: dict[str, set[str]] = {}
    for function in tree.body:
        if not isinstance(function, ast.FunctionDef):
            continue
        names = {
            node.func.id
            for node in ast.walk(function)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
        }
        direct[function.name] = {types[name] for name in names if name in types}
        calls[function.name] = names
    emitted = {name: set(found) for name, found in direct.items()}
    changed = True
    while changed:
        changed = False
        for name, called in calls.items():
            for helper in called & emitted.keys():
                if not emitted[helper] <= emitted[name]:
                    emitted[name] |= emitted[helper]
                    changed = True
    return emitted


def test_each_write_names_the_events_it_emits_in_its_docstring() -> None:
    missing = []
    emitters = 0
    for path in sorted(SERVICES.glob("*.py")):
        tree = ast.parse(path.read_text())
        docstrings = {
            node.name: ast.get_docstring(node) or ""
            for node in tree.body
            if isinstance(node, ast.FunctionDef)
        }
        for name, types in emitted_by(tree).items():
            if name.startswith("_") or not types:
                continue
            emitters += 1
            missing += [f"{path.name}:{name} {t}" for t in types if t not in docstrings[name]]
    assert missing == []
    assert emitters >= 11  # the nine logged types' writes, typing and presence


def test_a_new_type_is_one_class() -> None:
    """Nothing else lists the types: both tuples hold EventData classes with distinct names."""
    everything = (*LOGGED, *SIGNALS)
    assert all(inspect.isclass(data) and issubclass(data, EventData) for data in everything)
    assert len({data.TYPE for data in everything}) == len(everything)
