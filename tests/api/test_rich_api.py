"""Replies, reactions, pages around a message and mute through HTTP, as a script uses them."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask

from tests.support.api import (
    API,
    CONVERSATIONS,
    assert_error,
    conversation_url,
    counts,
    create_group,
    message_url,
    messages_url,
    ok,
    open_direct,
    send,
    snapshot,
)
from tests.support.people import Person


def reaction_url(message_id: int, emoji: str) -> str:
    return f"{message_url(message_id)}/reactions/{quote(emoji, safe='')}"


def listing(who: Person) -> dict[int, dict[str, Any]]:
    return {c["id"]: c for c in ok(who.get(CONVERSATIONS))["conversations"]}


def test_a_reply_answers_201_with_its_quote_and_the_history_shows_it(
    app: Flask, ana: Person, bob: Person
) -> None:
    cid = open_direct(ana, bob)["id"]
    first = send(ana, cid, "Where is the *key*?")
    answer = send(bob, cid, "under the mat", reply_to=first["id"])
    assert answer["reply_to"] == {
        "id": first["id"],
        "sender": {"id": ana.id, "username": "ana", "display_name": None},
        "excerpt": "Where is the key?",
    }
    assert first["reply_to"] is None and first["reactions"] == []
    page = ok(ana.get(messages_url(cid)))["messages"]
    assert [m["reply_to"] for m in page] == [answer["reply_to"], None]
    ok(ana.patch(message_url(first["id"]), json={"body": "Where is the spare key?"}))
    page = ok(ana.get(messages_url(cid)))["messages"]
    assert page[0]["reply_to"]["excerpt"] == "Where is the spare key?"
    ok(ana.delete(message_url(first["id"])))
    page = ok(bob.get(messages_url(cid)))["messages"]
    assert page[0]["reply_to"]["excerpt"] is None


@pytest.mark.parametrize("target", ["elsewhere", "deleted", "missing", "text"])
def test_a_bad_reply_to_answers_422_naming_it_and_writes_nothing(
    app: Flask, ana: Person, bob: Person, cara: Person, target: str
) -> None:
    cid = open_direct(ana, bob)["id"]
    other = open_direct(ana, cara)["id"]
    gone = send(ana, cid, "soon gone")["id"]
    ok(ana.delete(message_url(gone)))
    reply_to = {
        "elsewhere": send(ana, other, "not for bob")["id"],
        "deleted": gone,
        "missing": 999999,
        "text": "first",
    }[target]
    before = snapshot(app)
    response = bob.post(messages_url(cid), json={"body": "re", "reply_to": reply_to})
    error = assert_error(response, 422)
    assert set(error["fields"]) == {"reply_to"}
    assert snapshot(app) == before


def test_a_page_around_a_message_says_what_lies_on_both_sides(
    app: Flask, ana: Person, bob: Person
) -> None:
    cid = open_direct(ana, bob)["id"]
    ids = [send(ana, cid, f"m{i}")["id"] for i in range(12)]
    page = ok(bob.get(f"{messages_url(cid)}?around={ids[5]}&limit=4"))
    assert [m["id"] for m in page["messages"]] == [ids[7], ids[6], ids[5], ids[4]]
    assert (page["has_more"], page["has_newer"]) == (True, True)
    plain = ok(bob.get(messages_url(cid)))
    assert plain["has_newer"] is None
    for extra in ("before", "after"):
        error = assert_error(bob.get(f"{messages_url(cid)}?around={ids[5]}&{extra}={ids[5]}"), 422)
        assert set(error["fields"]) == {"around"}
    error = assert_error(bob.get(f"{messages_url(cid)}?around=x"), 422)
    assert set(error["fields"]) == {"around"}


def test_reactions_through_http_are_idempotent_and_listed_in_order(
    app: Flask, ana: Person, bob: Person
) -> None:
    cid = create_group(ana, "Lunch", bob)["id"]
    mid = send(ana, cid, "pizza?")["id"]
    for who, emoji in ((bob, "🍕"), (ana, "👍"), (bob, "👍"), (bob, "👍")):
        message = ok(who.put(reaction_url(mid, emoji)))["message"]
    assert message["reactions"] == [
        {"emoji": "🍕", "count": 1, "user_ids": [bob.id]},
        {"emoji": "👍", "count": 2, "user_ids": [ana.id, bob.id]},
    ]
    message = ok(bob.delete(reaction_url(mid, "🍕")))["message"]
    message = ok(bob.delete(reaction_url(mid, "🍕")))["message"]
    assert message["reactions"] == [{"emoji": "👍", "count": 2, "user_ids": [ana.id, bob.id]}]
    page = ok(ana.get(messages_url(cid)))["messages"]
    assert page[0]["reactions"] == message["reactions"]


@pytest.mark.parametrize("emoji", ["a", "👍👍", ":+1:", "%20", "🏽", "<b>"])
def test_a_reaction_that_is_not_one_emoji_answers_422_and_writes_nothing(
    app: Flask, ana: Person, bob: Person, emoji: str
) -> None:
    cid = open_direct(ana, bob)["id"]
    mid = send(ana, cid, "hi")["id"]
    before = counts(app)
    error = assert_error(bob.put(reaction_url(mid, emoji)), 422)
    assert set(error["fields"]) == {"emoji"}
    assert counts(app) == before


def test_the_twenty_first_emoji_and_a_reaction_on_a_tombstone_answer_409(
    app: Flask, ana: Person, bob: Person
) -> None:
    cid = open_direct(ana, bob)["id"]
    mid = send(ana, cid, "react to me")["id"]
    many = list("😀😁😂🤣😃😄😅😆😉😊😋😎😍😘🥰😗😙🥲😚🙂🤗")
    for emoji in many[:20]:
        ok(ana.put(reaction_url(mid, emoji)))
    before = snapshot(app)
    error = assert_error(bob.put(reaction_url(mid, many[20])), 409)
    assert "20" in error["message"]
    assert snapshot(app) == before
    ok(ana.delete(message_url(mid)))
    before = snapshot(app)
    assert_error(bob.put(reaction_url(mid, "👍")), 409)
    assert snapshot(app) == before


def test_mute_is_listed_for_me_alone(app: Flask, ana: Person, bob: Person) -> None:
    cid = create_group(ana, "Noisy", bob)["id"]
    mute_url = f"{conversation_url(cid)}/mute"
    answer = ok(bob.put(mute_url))["conversation"]
    assert answer["muted"] is True
    assert listing(bob)[cid]["muted"] is True
    assert listing(ana)[cid]["muted"] is False
    assert ok(bob.put(mute_url))["conversation"]["muted"] is True
    assert ok(bob.delete(mute_url))["conversation"]["muted"] is False
    assert listing(bob)[cid]["muted"] is False
    assert ok(bob.get(f"{API}/conversations/{cid}"))["conversation"]["muted"] is False
