"""Conversations, members, read markers and the user directory through HTTP, as scripts use them."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from hubbub.models import Conversation, Membership, Message
from tests.support import count, csrf_token, login
from tests.support.api import (
    API,
    CONVERSATIONS,
    assert_error,
    conversation_url,
    create_group,
    members_url,
    messages_url,
    ok,
    open_direct,
    send,
)
from tests.support.people import MakeUser, Person, person


def roles(conversation: dict[str, Any]) -> dict[str, str]:
    return {m["user"]["username"]: m["role"] for m in conversation["members"]}


def listing(who: Person) -> list[dict[str, Any]]:
    conversations: list[dict[str, Any]] = ok(who.get(CONVERSATIONS))["conversations"]
    return conversations


def details(who: Person, conversation_id: int) -> dict[str, Any]:
    conversation: dict[str, Any] = ok(who.get(conversation_url(conversation_id)))["conversation"]
    return conversation


# Direct conversations


def test_direct_conversation_is_created_once_then_found_from_either_side(
    app: Flask, ana: Person, bob: Person
) -> None:
    first = ana.post(CONVERSATIONS, json={"kind": "direct", "user_id": bob.id})
    created = ok(first, 201)["conversation"]
    assert created["kind"] == "direct"
    assert created["title"] is None
    assert roles(created) == {"ana": "member", "bob": "member"}

    again = ok(ana.post(CONVERSATIONS, json={"kind": "direct", "user_id": bob.id}))
    other_side = ok(bob.post(CONVERSATIONS, json={"kind": "direct", "user_id": ana.id}))
    assert again["conversation"]["id"] == created["id"]
    assert other_side["conversation"]["id"] == created["id"]
    assert count(app, Conversation) == 1
    assert count(app, Membership) == 2


def test_an_id_written_as_an_integral_number_is_that_integer(ana: Person, bob: Person) -> None:
    # JSON has one number type: 3.0 and 3 are the same integer to JSON Schema and OpenAPI.
    created = ok(ana.post(CONVERSATIONS, json={"kind": "direct", "user_id": float(bob.id)}), 201)
    assert roles(created["conversation"]) == {"ana": "member", "bob": "member"}


def test_direct_conversation_with_an_unknown_user_is_refused(app: Flask, ana: Person) -> None:
    response = ana.post(CONVERSATIONS, json={"kind": "direct", "user_id": 999})
    error = assert_error(response, 422, "invalid")
    assert "user_id" in error["fields"]
    assert count(app, Conversation) == 0


def test_direct_conversation_has_no_title_or_members_to_manage(
    ana: Person, bob: Person, cara: Person
) -> None:
    direct = open_direct(ana, bob)
    assert_error(ana.patch(conversation_url(direct["id"]), json={"title": "x"}), 422)
    assert_error(ana.post(members_url(direct["id"]), json={"user_id": cara.id}), 422)
    assert_error(ana.delete(members_url(direct["id"], ana.id)), 422)
    assert roles(details(bob, direct["id"])) == {"ana": "member", "bob": "member"}


# Groups: the "done when" walk


def test_group_walk_create_rename_add_promote_remove_leave(
    app: Flask, ana: Person, bob: Person, cara: Person, make_user: MakeUser
) -> None:
    dan = person(app, make_user, "dan")
    body = {"kind": "group", "title": "  Lunch  ", "member_ids": [bob.id, cara.id]}
    group = ok(ana.post(CONVERSATIONS, json=body), 201)["conversation"]
    gid = group["id"]
    assert group["kind"] == "group"
    assert group["title"] == "Lunch"
    assert group["my_role"] == "owner"
    assert roles(group) == {"ana": "owner", "bob": "member", "cara": "member"}

    seen_by_bob = details(bob, gid)
    assert seen_by_bob["my_role"] == "member"
    assert roles(seen_by_bob) == roles(group)
    assert {m["user"]["id"] for m in seen_by_bob["members"]} == {ana.id, bob.id, cara.id}
    assert_error(dan.get(conversation_url(gid)), 404, "not_found")

    renamed = ok(ana.patch(conversation_url(gid), json={"title": "Lunch club"}))["conversation"]
    assert renamed["title"] == "Lunch club"
    assert details(cara, gid)["title"] == "Lunch club"

    added = ok(ana.post(members_url(gid), json={"user_id": dan.id}), 201)["member"]
    assert added["user"] == {"id": dan.id, "username": "dan", "display_name": None}
    assert added["role"] == "member"
    assert details(dan, gid)["my_role"] == "member"

    promoted = ok(ana.patch(members_url(gid, bob.id), json={"role": "admin"}))["member"]
    assert promoted["role"] == "admin"
    assert roles(details(cara, gid))["bob"] == "admin"

    assert ana.delete(members_url(gid, cara.id)).status_code == 204
    assert_error(cara.get(conversation_url(gid)), 404)
    assert gid not in [c["id"] for c in listing(cara)]
    assert "cara" not in roles(details(ana, gid))

    left = dan.delete(members_url(gid, dan.id))
    assert left.status_code == 204
    assert left.get_data() == b""
    assert_error(dan.get(conversation_url(gid)), 404, "not_found")
    assert roles(details(ana, gid)) == {"ana": "owner", "bob": "admin"}


def test_removed_member_can_neither_read_nor_post(app: Flask, ana: Person, bob: Person) -> None:
    gid = create_group(ana, "Team", bob)["id"]
    send(ana, gid, "before")
    assert ana.delete(members_url(gid, bob.id)).status_code == 204
    assert_error(bob.get(messages_url(gid)), 404)
    assert_error(bob.post(messages_url(gid), json={"body": "still here?"}), 404)
    assert count(app, Message) == 1


def test_plain_member_cannot_rename_add_or_remove(
    app: Flask, ana: Person, bob: Person, cara: Person, make_user: MakeUser
) -> None:
    dan = person(app, make_user, "dan")
    gid = create_group(ana, "Team", bob, cara)["id"]
    assert_error(bob.patch(conversation_url(gid), json={"title": "Mine"}), 403, "forbidden")
    assert_error(bob.post(members_url(gid), json={"user_id": dan.id}), 403, "forbidden")
    assert_error(bob.delete(members_url(gid, cara.id)), 403, "forbidden")
    assert_error(bob.patch(members_url(gid, cara.id), json={"role": "admin"}), 403)
    conversation = details(ana, gid)
    assert conversation["title"] == "Team"
    assert roles(conversation) == {"ana": "owner", "bob": "member", "cara": "member"}


def test_adding_someone_already_in_the_group_is_a_conflict(
    app: Flask, ana: Person, bob: Person
) -> None:
    gid = create_group(ana, "Team", bob)["id"]
    assert_error(ana.post(members_url(gid), json={"user_id": bob.id}), 409, "conflict")
    assert count(app, Membership) == 2


def test_the_last_owner_leaving_hands_ownership_to_an_admin(
    ana: Person, bob: Person, cara: Person
) -> None:
    gid = create_group(ana, "Team", bob, cara)["id"]
    ok(ana.patch(members_url(gid, cara.id), json={"role": "admin"}))
    assert ana.delete(members_url(gid, ana.id)).status_code == 204
    assert roles(details(bob, gid)) == {"bob": "member", "cara": "owner"}


def test_the_only_owner_cannot_demote_themselves(ana: Person, bob: Person) -> None:
    gid = create_group(ana, "Team", bob)["id"]
    assert_error(ana.patch(members_url(gid, ana.id), json={"role": "member"}), 409)
    assert roles(details(ana, gid))["ana"] == "owner"


# Read markers and the list of conversations


def test_read_marker_brings_unread_count_to_zero(ana: Person, bob: Person, cara: Person) -> None:
    gid = create_group(ana, "Team", bob, cara)["id"]
    sent = [send(ana, gid, f"news {n}") for n in range(3)]
    assert details(ana, gid)["unread_count"] == 0
    assert details(bob, gid)["unread_count"] == 3
    assert details(cara, gid)["unread_count"] == 3

    # Writing in a conversation reads it up to your own message.
    send(bob, gid, "got it")
    assert details(ana, gid)["unread_count"] == 1
    assert details(bob, gid)["unread_count"] == 0
    assert details(cara, gid)["unread_count"] == 4

    halfway = ok(cara.post(f"{conversation_url(gid)}/read", json={"message_id": sent[1]["id"]}))
    assert halfway["conversation"]["unread_count"] == 2
    assert halfway["conversation"]["last_read_message_id"] == sent[1]["id"]

    last_id = details(cara, gid)["last_message"]["id"]
    read = ok(cara.post(f"{conversation_url(gid)}/read", json={"message_id": last_id}))
    assert read["conversation"]["unread_count"] == 0
    assert read["conversation"]["last_read_message_id"] == last_id
    assert details(cara, gid)["unread_count"] == 0
    assert details(ana, gid)["unread_count"] == 1


def test_read_marker_never_moves_back(ana: Person, bob: Person) -> None:
    gid = create_group(ana, "Team", bob)["id"]
    first, second = send(ana, gid, "one"), send(ana, gid, "two")
    url = f"{conversation_url(gid)}/read"
    ok(bob.post(url, json={"message_id": second["id"]}))
    back = ok(bob.post(url, json={"message_id": first["id"]}))["conversation"]
    assert back["last_read_message_id"] == second["id"]
    assert back["unread_count"] == 0


def test_read_marker_refuses_a_message_from_another_conversation(ana: Person, bob: Person) -> None:
    elsewhere = create_group(ana, "Elsewhere", bob)["id"]
    gid = create_group(ana, "Team", bob)["id"]
    stray = send(ana, elsewhere, "not here")
    error = assert_error(
        bob.post(f"{conversation_url(gid)}/read", json={"message_id": stray["id"]}), 422
    )
    assert "message_id" in error["fields"]
    assert details(bob, gid)["last_read_message_id"] is None


def test_list_shows_latest_activity_first_and_moves_a_conversation_up_on_a_message(
    ana: Person, bob: Person, cara: Person
) -> None:
    direct = open_direct(ana, bob)
    group = create_group(ana, "Team", bob, cara)
    assert [c["id"] for c in listing(bob)] == [group["id"], direct["id"]]

    message = send(ana, direct["id"], "psst")
    conversations = listing(bob)
    assert [c["id"] for c in conversations] == [direct["id"], group["id"]]
    top = conversations[0]
    assert top["unread_count"] == 1
    assert top["last_message"]["id"] == message["id"]
    assert top["last_message"]["body"] == "psst"
    assert top["last_message"]["sender"] == {"id": ana.id, "username": "ana", "display_name": None}
    assert conversations[1]["unread_count"] == 0
    assert conversations[1]["last_message"] is None
    assert [c["id"] for c in listing(cara)] == [group["id"]]

    send(cara, group["id"], "lunch?")
    assert [c["id"] for c in listing(bob)] == [group["id"], direct["id"]]
    assert [c["id"] for c in listing(ana)] == [group["id"], direct["id"]]


def test_list_is_empty_for_someone_in_no_conversation(ana: Person, bob: Person) -> None:
    open_direct(ana, ana)
    assert listing(bob) == []


def test_list_leaves_out_a_conversation_the_caller_left(ana: Person, bob: Person) -> None:
    gid = create_group(ana, "Team", bob)["id"]
    assert bob.delete(members_url(gid, bob.id)).status_code == 204
    assert listing(bob) == []
    assert [c["id"] for c in listing(ana)] == [gid]


# The user directory


def test_user_search_finds_a_prefix_in_any_case_at_most_twenty(
    app: Flask, ana: Person, make_user: MakeUser
) -> None:
    for n in range(25):
        make_user(f"zed{n:02d}")
    make_user("bozed")

    found = ok(ana.get(f"{API}/users", query_string={"q": "ZED"}))["users"]
    assert len(found) == 20
    assert [u["username"] for u in found] == [f"zed{n:02d}" for n in range(20)]
    assert all(set(u) == {"id", "username", "display_name"} for u in found)

    narrow = ok(ana.get(f"{API}/users", query_string={"q": "zed2"}))["users"]
    assert [u["username"] for u in narrow] == [f"zed{n}" for n in range(20, 25)]
    assert ok(ana.get(f"{API}/users", query_string={"q": "nobody"}))["users"] == []


def test_user_search_treats_like_wildcards_as_text(app: Flask, ana: Person) -> None:
    assert ok(ana.get(f"{API}/users", query_string={"q": "%"}))["users"] == []
    assert ok(ana.get(f"{API}/users", query_string={"q": "_na"}))["users"] == []


def test_user_search_needs_a_caller(client: FlaskClient, ana: Person) -> None:
    assert_error(client.get(f"{API}/users", query_string={"q": "a"}), 401)


# Browser sessions


def test_browser_session_posts_a_message_with_the_csrf_header(
    app: Flask, make_user: MakeUser, bob: Person
) -> None:
    make_user("ana")
    browser = app.test_client()
    assert login(browser, "ana").status_code == 302
    token = csrf_token(browser, "/dashboard")
    headers = {"X-CSRFToken": token}

    opened = browser.post(
        CONVERSATIONS, json={"kind": "direct", "user_id": bob.id}, headers=headers
    )
    cid = ok(opened, 201)["conversation"]["id"]
    sent = ok(browser.post(messages_url(cid), json={"body": "hi"}, headers=headers), 201)
    assert sent["message"]["sender"]["username"] == "ana"
    assert [m["body"] for m in ok(bob.get(messages_url(cid)))["messages"]] == ["hi"]


def test_browser_session_without_the_csrf_header_writes_nothing(
    app: Flask, make_user: MakeUser, bob: Person
) -> None:
    ana = make_user("ana")
    opened = bob.post(CONVERSATIONS, json={"kind": "direct", "user_id": ana.id})
    url = messages_url(ok(opened, 201)["conversation"]["id"])
    browser = app.test_client()
    assert login(browser, "ana").status_code == 302

    assert_error(browser.post(url, json={"body": "hi"}), 403, "csrf_failed")
    forged = browser.post(url, json={"body": "hi"}, headers={"X-CSRFToken": "forged"})
    assert_error(forged, 403, "csrf_failed")
    assert count(app, Message) == 0
    assert ok(bob.get(url))["messages"] == []
