"""Messages through HTTP: send, idempotent retries, edit, revisions, delete, history pages."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from hubbub.models import Message, MessageRevision, db
from tests.support import count
from tests.support.api import (
    MESSAGE_KEYS,
    assert_error,
    create_group,
    members_url,
    message_url,
    messages_url,
    ok,
    open_direct,
    parse_time,
    send,
)
from tests.support.people import Person


def revisions(who: Person, message_id: int) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = ok(who.get(f"{message_url(message_id)}/revisions"))["revisions"]
    return found


def page(who: Person, conversation_id: int, **query: Any) -> dict[str, Any]:
    return ok(who.get(messages_url(conversation_id), query_string=query))


def stored_body(app: Flask, message_id: int) -> str | None:
    with app.app_context():
        body = db.session.scalar(select(Message.body).where(Message.id == message_id))
        db.session.remove()
        return body


# Sending


def test_send_answers_201_with_the_documented_message_shape(
    app: Flask, ana: Person, bob: Person
) -> None:
    cid = open_direct(ana, bob)["id"]
    response = ana.post(messages_url(cid), json={"body": "  hello\nworld  ", "client_id": "c-1"})
    body = ok(response, 201)
    assert set(body) == {"message"}
    message = body["message"]
    assert set(message) == MESSAGE_KEYS
    assert isinstance(message["id"], int)
    assert message["conversation_id"] == cid
    assert message["sender"] == {"id": ana.id, "username": "ana", "display_name": None}
    assert message["body"] == "hello\nworld"
    assert message["client_id"] == "c-1"
    assert message["edited_at"] is None
    assert message["deleted_at"] is None
    parse_time(message["created_at"])
    assert count(app, Message) == 1
    assert ok(bob.get(messages_url(cid)))["messages"] == [message]


def test_send_without_client_id_gives_null_client_id(ana: Person, bob: Person) -> None:
    cid = open_direct(ana, bob)["id"]
    assert send(ana, cid, "hi")["client_id"] is None


def test_send_twice_without_client_id_makes_two_messages(
    app: Flask, ana: Person, bob: Person
) -> None:
    cid = open_direct(ana, bob)["id"]
    first, second = send(ana, cid, "hi"), send(ana, cid, "hi")
    assert first["id"] != second["id"]
    assert count(app, Message) == 2


def test_retry_with_the_same_client_id_answers_200_with_the_first_message(
    app: Flask, ana: Person, bob: Person
) -> None:
    cid = open_direct(ana, bob)["id"]
    first = send(ana, cid, "once", client_id="retry-me")
    retry = ana.post(messages_url(cid), json={"body": "once", "client_id": "retry-me"})
    assert ok(retry, 200)["message"] == first
    assert count(app, Message) == 1


def test_retry_with_a_different_body_still_returns_the_first_message(
    app: Flask, ana: Person, bob: Person
) -> None:
    cid = open_direct(ana, bob)["id"]
    first = send(ana, cid, "first", client_id="k")
    retry = ok(ana.post(messages_url(cid), json={"body": "second", "client_id": "k"}))
    assert retry["message"] == first
    assert stored_body(app, first["id"]) == "first"
    assert count(app, Message) == 1


def test_client_ids_belong_to_their_sender(app: Flask, ana: Person, bob: Person) -> None:
    cid = open_direct(ana, bob)["id"]
    mine = send(ana, cid, "from ana", client_id="same")
    theirs = send(bob, cid, "from bob", client_id="same")
    assert mine["id"] != theirs["id"]
    assert count(app, Message) == 2


def test_client_id_reused_in_another_conversation_is_a_conflict(
    app: Flask, ana: Person, bob: Person, cara: Person
) -> None:
    send(ana, open_direct(ana, bob)["id"], "to bob", client_id="k")
    response = ana.post(
        messages_url(open_direct(ana, cara)["id"]), json={"body": "x", "client_id": "k"}
    )
    assert_error(response, 409, "conflict")
    assert count(app, Message) == 1


def test_a_4000_character_body_is_accepted_whole(app: Flask, ana: Person, bob: Person) -> None:
    cid = open_direct(ana, bob)["id"]
    text = "é" * 3999 + "😀"
    message = send(ana, cid, f"\n {text} \n")
    assert message["body"] == text
    assert stored_body(app, message["id"]) == text


def test_outsider_cannot_read_or_post(app: Flask, ana: Person, bob: Person, cara: Person) -> None:
    cid = open_direct(ana, bob)["id"]
    message = send(ana, cid, "private")
    assert_error(cara.get(messages_url(cid)), 404, "not_found")
    assert_error(cara.post(messages_url(cid), json={"body": "let me in"}), 404, "not_found")
    assert_error(cara.get(f"{message_url(message['id'])}/revisions"), 404, "not_found")
    assert_error(cara.patch(message_url(message["id"]), json={"body": "mine"}), 404)
    assert_error(cara.delete(message_url(message["id"])), 404)
    assert count(app, Message) == 1
    assert stored_body(app, message["id"]) == "private"


# Editing and earlier versions


def test_edit_sets_edited_at_and_keeps_earlier_bodies_oldest_first(
    app: Flask, ana: Person, bob: Person
) -> None:
    cid = open_direct(ana, bob)["id"]
    original = send(ana, cid, "v1")
    assert revisions(bob, original["id"]) == []

    first = ok(ana.patch(message_url(original["id"]), json={"body": " v2 "}))["message"]
    assert set(first) == MESSAGE_KEYS
    assert first["id"] == original["id"]
    assert first["body"] == "v2"
    assert first["created_at"] == original["created_at"]
    assert parse_time(first["edited_at"]) >= parse_time(original["created_at"])
    assert first["deleted_at"] is None

    second = ok(ana.patch(message_url(original["id"]), json={"body": "v3"}))["message"]
    assert parse_time(second["edited_at"]) >= parse_time(first["edited_at"])

    earlier = revisions(bob, original["id"])
    assert [r["body"] for r in earlier] == ["v1", "v2"]
    assert all(set(r) == {"body", "created_at", "replaced_at"} for r in earlier)
    assert earlier[0]["created_at"] == original["created_at"]
    assert earlier[0]["replaced_at"] == first["edited_at"]
    assert earlier[1]["created_at"] == first["edited_at"]
    assert earlier[1]["replaced_at"] == second["edited_at"]
    assert ok(bob.get(messages_url(cid)))["messages"] == [second]
    assert count(app, MessageRevision) == 2


def test_only_the_author_can_edit_even_a_group_owner_cannot(
    app: Flask, ana: Person, bob: Person
) -> None:
    gid = create_group(ana, "Team", bob)["id"]
    message = send(bob, gid, "bob's words")
    assert_error(ana.patch(message_url(message["id"]), json={"body": "ana's now"}), 403)
    assert stored_body(app, message["id"]) == "bob's words"
    assert count(app, MessageRevision) == 0


def test_editing_a_deleted_message_is_a_conflict(app: Flask, ana: Person, bob: Person) -> None:
    cid = open_direct(ana, bob)["id"]
    message = send(ana, cid, "gone soon")
    ok(ana.delete(message_url(message["id"])))
    assert_error(ana.patch(message_url(message["id"]), json={"body": "back"}), 409, "conflict")
    assert stored_body(app, message["id"]) is None
    assert count(app, MessageRevision) == 0


# Deleting


def test_delete_answers_the_tombstone_and_erases_body_and_revisions(
    app: Flask, ana: Person, bob: Person
) -> None:
    cid = open_direct(ana, bob)["id"]
    message = send(ana, cid, "secret v1")
    ok(ana.patch(message_url(message["id"]), json={"body": "secret v2"}))
    assert count(app, MessageRevision) == 1

    tombstone = ok(ana.delete(message_url(message["id"])))["message"]
    assert set(tombstone) == MESSAGE_KEYS
    assert tombstone["id"] == message["id"]
    assert tombstone["body"] is None
    assert parse_time(tombstone["deleted_at"]) >= parse_time(message["created_at"])
    assert tombstone["sender"] == {"id": ana.id, "username": "ana", "display_name": None}

    assert revisions(bob, message["id"]) == []
    assert count(app, MessageRevision) == 0
    assert stored_body(app, message["id"]) is None
    assert count(app, Message) == 1
    assert ok(bob.get(messages_url(cid)))["messages"] == [tombstone]


def test_deleting_twice_changes_nothing(ana: Person, bob: Person) -> None:
    cid = open_direct(ana, bob)["id"]
    message = send(ana, cid, "x")
    first = ok(ana.delete(message_url(message["id"])))["message"]
    assert ok(ana.delete(message_url(message["id"])))["message"] == first


def test_deleted_message_is_not_unread(ana: Person, bob: Person) -> None:
    cid = open_direct(ana, bob)["id"]
    message = send(ana, cid, "oops")
    ok(ana.delete(message_url(message["id"])))
    assert ok(bob.get(f"/api/v1/conversations/{cid}"))["conversation"]["unread_count"] == 0


def test_the_other_person_in_a_direct_conversation_cannot_delete(
    app: Flask, ana: Person, bob: Person
) -> None:
    cid = open_direct(ana, bob)["id"]
    message = send(ana, cid, "mine")
    assert_error(bob.delete(message_url(message["id"])), 403, "forbidden")
    assert stored_body(app, message["id"]) == "mine"


@pytest.mark.parametrize(
    ("role", "status"),
    [("member", 403), ("admin", 200), ("owner", 200)],
    ids=["plain-member-cannot", "admin-can", "owner-can"],
)
def test_group_moderators_can_delete_what_others_wrote(
    app: Flask, ana: Person, bob: Person, cara: Person, role: str, status: int
) -> None:
    gid = create_group(ana, "Team", bob, cara)["id"]
    if role != "member":
        ok(ana.patch(members_url(gid, bob.id), json={"role": role}))
    message = send(cara, gid, "cara's words")
    response = bob.delete(message_url(message["id"]))
    if status == 200:
        tombstone = ok(response)["message"]
        assert tombstone["body"] is None
        assert tombstone["deleted_at"] is not None
        assert stored_body(app, message["id"]) is None
    else:
        assert_error(response, status, "forbidden")
        assert stored_body(app, message["id"]) == "cara's words"


# History pages


@pytest.fixture
def history(ana: Person, bob: Person) -> tuple[int, list[int]]:
    """A direct conversation holding 120 messages; their ids in the order sent."""
    cid = open_direct(ana, bob)["id"]
    return cid, [send(ana if n % 2 else bob, cid, f"message {n}")["id"] for n in range(120)]


def test_history_walks_backwards_with_before_until_has_more_is_false(
    bob: Person, history: tuple[int, list[int]]
) -> None:
    cid, sent = history
    seen: list[int] = []
    sizes: list[int] = []
    answer = page(bob, cid, limit=50)
    while True:
        ids = [m["id"] for m in answer["messages"]]
        assert ids == sorted(ids, reverse=True)
        assert all(m["conversation_id"] == cid for m in answer["messages"])
        seen += ids
        sizes.append(len(ids))
        if not answer["has_more"]:
            break
        assert len(sizes) < 10
        answer = page(bob, cid, limit=50, before=ids[-1])
    assert sizes == [50, 50, 20]
    assert seen == sorted(sent, reverse=True)
    assert len(set(seen)) == 120


def test_history_defaults_to_the_newest_fifty(bob: Person, history: tuple[int, list[int]]) -> None:
    cid, sent = history
    answer = page(bob, cid)
    assert [m["id"] for m in answer["messages"]] == sorted(sent, reverse=True)[:50]
    assert answer["has_more"] is True
    assert answer["messages"][0]["body"] == "message 119"


def test_history_walks_forwards_with_after_oldest_first(
    bob: Person, history: tuple[int, list[int]]
) -> None:
    cid, sent = history
    seen: list[int] = []
    cursor = 0
    for expected_size, expected_more in [(100, True), (20, False)]:
        answer = page(bob, cid, after=cursor, limit=100)
        ids = [m["id"] for m in answer["messages"]]
        assert len(ids) == expected_size
        assert answer["has_more"] is expected_more
        seen += ids
        cursor = ids[-1]
    assert seen == sorted(sent)
    assert page(bob, cid, after=cursor)["messages"] == []


def test_history_after_a_message_starts_just_after_it(
    bob: Person, history: tuple[int, list[int]]
) -> None:
    cid, sent = history
    answer = page(bob, cid, after=sent[9], limit=3)
    assert [m["id"] for m in answer["messages"]] == sent[10:13]
    assert [m["body"] for m in answer["messages"]] == ["message 10", "message 11", "message 12"]


def test_history_of_an_empty_conversation(ana: Person, bob: Person) -> None:
    cid = open_direct(ana, bob)["id"]
    assert page(ana, cid) == {"messages": [], "has_more": False, "has_newer": None}


@pytest.mark.parametrize(
    "query",
    [
        {"limit": "101"},
        {"limit": "0"},
        {"limit": "-1"},
        {"limit": "abc"},
        {"limit": "1.5"},
        {"before": "abc"},
        {"before": "-1"},
        {"after": "x"},
        {"after": "99999999999999999999"},
    ],
    ids=lambda query: "&".join(f"{k}={v}" for k, v in query.items()),
)
def test_history_refuses_bad_query_parameters_with_422(
    ana: Person, bob: Person, query: dict[str, str]
) -> None:
    cid = open_direct(ana, bob)["id"]
    send(ana, cid, "hi")
    error = assert_error(ana.get(messages_url(cid), query_string=query), 422, "invalid")
    assert set(query) <= set(error["fields"])


def test_history_accepts_the_largest_page(ana: Person, bob: Person) -> None:
    cid = open_direct(ana, bob)["id"]
    send(ana, cid, "hi")
    assert len(page(ana, cid, limit=100)["messages"]) == 1


def test_a_message_carries_its_rendering_in_answers_pages_and_events(
    app: Flask, ana: Person, bob: Person
) -> None:
    group = create_group(ana, "Crew", bob)["id"]
    start = ok(bob.get("/api/v1/events"))["last_id"]
    sent = send(ana, group, "_hi_ @bob <i>")
    mention = f'<span class="mention" data-user-id="{bob.id}">@bob</span>'
    assert sent["body"] == "_hi_ @bob <i>"
    assert sent["html"] == f"<p><em>hi</em> {mention} &lt;i&gt;</p>"
    page = ok(bob.get(messages_url(group)))["messages"]
    assert [m["html"] for m in page] == [sent["html"]]
    events = ok(bob.get(f"/api/v1/events?after={start}&timeout=0"))["events"]
    assert [e["data"]["message"]["html"] for e in events] == [sent["html"]]
    edited = ok(ana.patch(message_url(sent["id"]), json={"body": "> quoted"}))["message"]
    assert edited["html"] == "<blockquote>\n<p>quoted</p>\n</blockquote>"
    assert ok(ana.delete(message_url(sent["id"])))["message"]["html"] is None
