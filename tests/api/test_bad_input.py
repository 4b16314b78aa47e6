"""Bad input to every chat write route: a JSON error with the right 4xx, never a 500, no writes."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask

from tests.support.api import (
    CONVERSATIONS,
    assert_error,
    conversation_url,
    counts,
    create_group,
    members_url,
    message_url,
    messages_url,
    ok,
    open_direct,
    send,
    snapshot,
)
from tests.support.people import MakeUser, Person, person

MIB = 1024 * 1024
LONG_BODY = "x" * 4001
LONGEST_BODY = "x" * 4000


@dataclass(frozen=True)
class World:
    """ana owns a group with bob; ana and bob also talk directly; cara is in neither."""

    ana: Person
    bob: Person
    cara: Person
    ids: dict[str, int]


@pytest.fixture
def world(app: Flask, make_user: MakeUser) -> World:
    ana, bob, cara = (person(app, make_user, name) for name in ("ana", "bob", "cara"))
    group = create_group(ana, "Team", bob)["id"]
    direct = open_direct(ana, bob)["id"]
    message = send(ana, group, "first words", client_id="c-1")["id"]
    # An edit, so that there is a revision whose content must survive.
    ok(ana.patch(message_url(message), json={"body": "edited words"}))
    elsewhere = send(bob, direct, "in the direct conversation")["id"]
    ids = {
        "group": group,
        "direct": direct,
        "message": message,
        "elsewhere": elsewhere,
        "ana": ana.id,
        "bob": bob.id,
        "cara": cara.id,
    }
    return World(ana=ana, bob=bob, cara=cara, ids=ids)


def as_json(value: Any) -> dict[str, Any]:
    """A request body exactly as given, sent as JSON (lone surrogates are escaped, not dropped)."""
    return {"data": json.dumps(value), "content_type": "application/json"}


def raw(data: str | bytes, content_type: str | None = "application/json") -> dict[str, Any]:
    return {"data": data, "content_type": content_type}


# Each route, then the payloads that must be refused: (label, payload, status, code).
Payload = tuple[str, dict[str, Any], int, str]

TRANSPORT: list[Payload] = [
    ("malformed-json", raw('{"body": "hi",'), 400, "malformed_json"),
    ("json-null", raw("null"), 400, "malformed_json"),
    ("invalid-utf8", raw(b'{"body": "\xff\xfe"}'), 400, "malformed_json"),
    ("deeply-nested-json", raw("[" * 100_000 + "]" * 100_000), 400, "malformed_json"),
    ("json-array", as_json([]), 422, "invalid"),
    ("json-string", as_json("hello"), 422, "invalid"),
    (
        "form-content-type",
        raw("body=hi&title=hi", "application/x-www-form-urlencoded"),
        415,
        "unsupported_media_type",
    ),
    ("text-plain-json", raw('{"body": "hi"}', "text/plain"), 415, "unsupported_media_type"),
    ("no-content-type", raw('{"body": "hi"}', None), 415, "unsupported_media_type"),
    ("over-1-mib", as_json({"body": "x" * MIB, "title": "x"}), 413, "payload_too_large"),
]

NEW_CONVERSATION: list[Payload] = [
    ("direct-user_id-string", as_json({"kind": "direct", "user_id": "3"}), 422, "invalid"),
    ("direct-user_id-fraction", as_json({"kind": "direct", "user_id": 3.5}), 422, "invalid"),
    ("direct-user_id-bool", as_json({"kind": "direct", "user_id": True}), 422, "invalid"),
    ("direct-user_id-zero", as_json({"kind": "direct", "user_id": 0}), 422, "invalid"),
    ("direct-user_id-huge", as_json({"kind": "direct", "user_id": 2**63}), 422, "invalid"),
    ("direct-user_id-unknown", as_json({"kind": "direct", "user_id": 999}), 422, "invalid"),
    ("direct-user_id-missing", as_json({"kind": "direct"}), 422, "invalid"),
    ("direct-user_id-null", as_json({"kind": "direct", "user_id": None}), 422, "invalid"),
    (
        "direct-with-title",
        as_json({"kind": "direct", "user_id": 3, "title": "Ours"}),
        422,
        "invalid",
    ),
    (
        "direct-with-member_ids",
        as_json({"kind": "direct", "user_id": 3, "member_ids": [3]}),
        422,
        "invalid",
    ),
    ("kind-missing", as_json({"user_id": 3}), 422, "invalid"),
    ("kind-unknown", as_json({"kind": "channel", "title": "x"}), 422, "invalid"),
    ("kind-number", as_json({"kind": 1, "user_id": 3}), 422, "invalid"),
    ("group-title-missing", as_json({"kind": "group", "member_ids": [2]}), 422, "invalid"),
    ("group-title-null", as_json({"kind": "group", "title": None}), 422, "invalid"),
    ("group-title-number", as_json({"kind": "group", "title": 5}), 422, "invalid"),
    ("group-title-empty", as_json({"kind": "group", "title": ""}), 422, "invalid"),
    ("group-title-whitespace", as_json({"kind": "group", "title": " \t "}), 422, "invalid"),
    ("group-title-81-chars", as_json({"kind": "group", "title": "t" * 81}), 422, "invalid"),
    ("group-title-control", as_json({"kind": "group", "title": "a\u0000b"}), 422, "invalid"),
    ("group-title-lone-surrogate", as_json({"kind": "group", "title": "a\ud800"}), 400, "bad_text"),
    (
        "group-member_ids-string",
        as_json({"kind": "group", "title": "x", "member_ids": "x"}),
        422,
        "invalid",
    ),
    (
        "group-member_ids-of-strings",
        as_json({"kind": "group", "title": "x", "member_ids": ["2"]}),
        422,
        "invalid",
    ),
    (
        "group-member_ids-unknown",
        as_json({"kind": "group", "title": "x", "member_ids": [2, 999]}),
        422,
        "invalid",
    ),
    (
        "group-sets-role",
        as_json({"kind": "group", "title": "x", "role": "admin"}),
        422,
        "invalid",
    ),
    ("group-sets-id", as_json({"kind": "group", "title": "x", "id": 77}), 422, "invalid"),
    (
        "group-sets-created_at",
        as_json({"kind": "group", "title": "x", "created_at": "2000-01-01T00:00:00Z"}),
        422,
        "invalid",
    ),
    (
        "direct-sets-sender_id",
        as_json({"kind": "direct", "user_id": 3, "sender_id": 3}),
        422,
        "invalid",
    ),
]

RENAME: list[Payload] = [
    ("title-null", as_json({"title": None}), 422, "invalid"),
    ("title-number", as_json({"title": 5}), 422, "invalid"),
    ("title-list", as_json({"title": ["a"]}), 422, "invalid"),
    ("title-missing", as_json({}), 422, "invalid"),
    ("title-empty", as_json({"title": ""}), 422, "invalid"),
    ("title-whitespace", as_json({"title": "   "}), 422, "invalid"),
    ("title-81-chars", as_json({"title": "t" * 81}), 422, "invalid"),
    ("title-newline-control", as_json({"title": "a\nb"}), 422, "invalid"),
    ("title-lone-surrogate", as_json({"title": "\udc00"}), 400, "bad_text"),
    ("sets-id", as_json({"title": "x", "id": 99}), 422, "invalid"),
    ("sets-kind", as_json({"title": "x", "kind": "direct"}), 422, "invalid"),
    ("sets-created_at", as_json({"title": "x", "created_at": "2000-01-01"}), 422, "invalid"),
]

ADD_MEMBER: list[Payload] = [
    ("user_id-string", as_json({"user_id": "3"}), 422, "invalid"),
    ("user_id-list", as_json({"user_id": [3]}), 422, "invalid"),
    ("user_id-null", as_json({"user_id": None}), 422, "invalid"),
    ("user_id-missing", as_json({}), 422, "invalid"),
    ("user_id-zero", as_json({"user_id": 0}), 422, "invalid"),
    ("user_id-over-int32", as_json({"user_id": 2**31}), 422, "invalid"),
    ("user_id-unknown", as_json({"user_id": 999}), 422, "invalid"),
    ("sets-role", as_json({"user_id": 3, "role": "owner"}), 422, "invalid"),
    ("sets-joined_at", as_json({"user_id": 3, "joined_at": "2000-01-01"}), 422, "invalid"),
]

CHANGE_ROLE: list[Payload] = [
    ("role-unknown", as_json({"role": "superuser"}), 422, "invalid"),
    ("role-upper-case", as_json({"role": "ADMIN"}), 422, "invalid"),
    ("role-number", as_json({"role": 1}), 422, "invalid"),
    ("role-null", as_json({"role": None}), 422, "invalid"),
    ("role-missing", as_json({}), 422, "invalid"),
    ("sets-user_id", as_json({"role": "admin", "user_id": 3}), 422, "invalid"),
    ("sets-left_at", as_json({"role": "admin", "left_at": None}), 422, "invalid"),
]

MARK_READ: list[Payload] = [
    ("message_id-string", as_json({"message_id": "1"}), 422, "invalid"),
    ("message_id-null", as_json({"message_id": None}), 422, "invalid"),
    ("message_id-missing", as_json({}), 422, "invalid"),
    ("message_id-zero", as_json({"message_id": 0}), 422, "invalid"),
    ("message_id-unknown", as_json({"message_id": 999}), 422, "invalid"),
    ("sets-user_id", as_json({"message_id": 1, "user_id": 2}), 422, "invalid"),
    ("sets-unread_count", as_json({"message_id": 1, "unread_count": 0}), 422, "invalid"),
]

SEND: list[Payload] = [
    ("body-number", as_json({"body": 5}), 422, "invalid"),
    ("body-bool", as_json({"body": True}), 422, "invalid"),
    ("body-list", as_json({"body": ["hi"]}), 422, "invalid"),
    ("body-object", as_json({"body": {"text": "hi"}}), 422, "invalid"),
    ("body-null", as_json({"body": None}), 422, "invalid"),
    ("body-missing", as_json({}), 422, "invalid"),
    ("body-empty", as_json({"body": ""}), 422, "invalid"),
    ("body-whitespace", as_json({"body": " \n\t\r\n "}), 422, "invalid"),
    ("body-4001-chars", as_json({"body": LONG_BODY}), 422, "invalid"),
    ("body-4001-astral-chars", as_json({"body": "😀" * 4001}), 422, "invalid"),
    ("body-nul", as_json({"body": "a\u0000b"}), 422, "invalid"),
    ("body-escape-control", as_json({"body": "a\u001bb"}), 422, "invalid"),
    ("body-lone-surrogate", as_json({"body": "a\ud800b"}), 400, "bad_text"),
    ("client_id-number", as_json({"body": "hi", "client_id": 5}), 422, "invalid"),
    ("client_id-empty", as_json({"body": "hi", "client_id": ""}), 422, "invalid"),
    ("client_id-65-chars", as_json({"body": "hi", "client_id": "c" * 65}), 422, "invalid"),
    ("client_id-lone-surrogate", as_json({"body": "hi", "client_id": "\ud83d"}), 400, "bad_text"),
    ("sets-sender_id", as_json({"body": "hi", "sender_id": 2}), 422, "invalid"),
    ("sets-created_at", as_json({"body": "hi", "created_at": "2000-01-01"}), 422, "invalid"),
    ("sets-id", as_json({"body": "hi", "id": 1}), 422, "invalid"),
    ("sets-deleted_at", as_json({"body": "hi", "deleted_at": None}), 422, "invalid"),
    ("sets-conversation_id", as_json({"body": "hi", "conversation_id": 2}), 422, "invalid"),
]

EDIT: list[Payload] = [
    ("body-number", as_json({"body": 5}), 422, "invalid"),
    ("body-null", as_json({"body": None}), 422, "invalid"),
    ("body-missing", as_json({}), 422, "invalid"),
    ("body-empty", as_json({"body": ""}), 422, "invalid"),
    ("body-whitespace", as_json({"body": "   \n "}), 422, "invalid"),
    ("body-4001-chars", as_json({"body": LONG_BODY}), 422, "invalid"),
    ("body-nul", as_json({"body": "a\u0000b"}), 422, "invalid"),
    ("body-lone-surrogate", as_json({"body": "a\udfffb"}), 400, "bad_text"),
    ("sets-client_id", as_json({"body": "hi", "client_id": "c-2"}), 422, "invalid"),
    ("sets-sender_id", as_json({"body": "hi", "sender_id": 2}), 422, "invalid"),
    ("sets-edited_at", as_json({"body": "hi", "edited_at": None}), 422, "invalid"),
    ("sets-deleted_at", as_json({"body": "hi", "deleted_at": "2000-01-01"}), 422, "invalid"),
    ("sets-created_at", as_json({"body": "hi", "created_at": "2000-01-01"}), 422, "invalid"),
]

ROUTES: list[tuple[str, str, str, list[Payload]]] = [
    ("post-conversations", "POST", CONVERSATIONS, NEW_CONVERSATION + TRANSPORT),
    ("patch-conversation", "PATCH", conversation_url("{group}"), RENAME + TRANSPORT),
    ("post-members", "POST", members_url("{group}"), ADD_MEMBER + TRANSPORT),
    ("patch-member", "PATCH", members_url("{group}", "{bob}"), CHANGE_ROLE + TRANSPORT),
    ("post-read", "POST", conversation_url("{group}") + "/read", MARK_READ + TRANSPORT),
    ("post-messages", "POST", messages_url("{group}"), SEND + TRANSPORT),
    ("patch-message", "PATCH", message_url("{message}"), EDIT + TRANSPORT),
]

CASES = [
    pytest.param(method, path, payload, status, code, id=f"{route}/{label}")
    for route, method, path, payloads in ROUTES
    for label, payload, status, code in payloads
]


def assert_refused_without_writes(
    app: Flask, who: Person, method: str, path: str, payload: dict[str, Any], status: int, code: str
) -> None:
    rows_before, counts_before = snapshot(app), counts(app)
    assert_error(who.request(method, path, **payload), status, code)
    assert counts(app) == counts_before
    assert snapshot(app) == rows_before


@pytest.mark.parametrize(("method", "path", "payload", "status", "code"), CASES)
def test_bad_input_is_refused_with_a_json_error_and_writes_nothing(
    app: Flask,
    world: World,
    method: str,
    path: str,
    payload: dict[str, Any],
    status: int,
    code: str,
) -> None:
    url = path.format(**world.ids)
    assert_refused_without_writes(app, world.ana, method, url, payload, status, code)


# Refusals that need ids from the world: method, path, a payload built from the ids, answer.
CONTEXT_CASES = [
    pytest.param(
        "POST",
        conversation_url("{group}") + "/read",
        lambda ids: as_json({"message_id": ids["elsewhere"]}),
        422,
        "invalid",
        id="post-read/message-from-another-conversation",
    ),
    pytest.param(
        "POST",
        members_url("{group}"),
        lambda ids: as_json({"user_id": ids["bob"]}),
        409,
        "conflict",
        id="post-members/already-a-member",
    ),
    pytest.param(
        "DELETE",
        members_url("{direct}", "{ana}"),
        lambda ids: {},
        422,
        "invalid",
        id="delete-member/leave-a-direct-conversation",
    ),
    pytest.param(
        "DELETE",
        members_url("{group}", "{cara}"),
        lambda ids: {},
        404,
        "not_found",
        id="delete-member/someone-not-in-the-group",
    ),
    pytest.param(
        "DELETE",
        members_url("{group}", "999"),
        lambda ids: {},
        404,
        "not_found",
        id="delete-member/unknown-user",
    ),
    pytest.param(
        "PATCH",
        members_url("{group}", "{cara}"),
        lambda ids: as_json({"role": "admin"}),
        404,
        "not_found",
        id="patch-member/someone-not-in-the-group",
    ),
    pytest.param(
        "PATCH",
        conversation_url("{direct}"),
        lambda ids: as_json({"title": "Ours"}),
        422,
        "invalid",
        id="patch-conversation/rename-a-direct-conversation",
    ),
    pytest.param(
        "POST",
        members_url("{direct}"),
        lambda ids: as_json({"user_id": ids["cara"]}),
        422,
        "invalid",
        id="post-members/add-to-a-direct-conversation",
    ),
]


@pytest.mark.parametrize(("method", "path", "build", "status", "code"), CONTEXT_CASES)
def test_refusals_that_depend_on_the_conversation_write_nothing(
    app: Flask,
    world: World,
    method: str,
    path: str,
    build: Callable[[dict[str, int]], dict[str, Any]],
    status: int,
    code: str,
) -> None:
    url = path.format(**world.ids)
    assert_refused_without_writes(app, world.ana, method, url, build(world.ids), status, code)


# An id in the path that no table can hold names nothing: 404, on every engine, never a 500.
PATH_ROUTES = [
    ("get-conversation", "GET", conversation_url("{id}"), {}),
    ("get-messages", "GET", messages_url("{id}"), {}),
    ("get-revisions", "GET", message_url("{id}") + "/revisions", {}),
    ("patch-conversation", "PATCH", conversation_url("{id}"), as_json({"title": "x"})),
    ("post-members", "POST", members_url("{id}"), as_json({"user_id": 3})),
    ("patch-member", "PATCH", members_url("{group}", "{id}"), as_json({"role": "admin"})),
    ("delete-member", "DELETE", members_url("{group}", "{id}"), {}),
    ("post-read", "POST", conversation_url("{id}") + "/read", as_json({"message_id": 1})),
    ("post-messages", "POST", messages_url("{id}"), as_json({"body": "hi"})),
    ("patch-message", "PATCH", message_url("{id}"), as_json({"body": "hi"})),
    ("delete-message", "DELETE", message_url("{id}"), {}),
]


@pytest.mark.parametrize("huge", [2**31, 2**63, 10**30], ids=["2^31", "2^63", "10^30"])
@pytest.mark.parametrize(
    ("method", "path", "payload"),
    [pytest.param(method, path, payload, id=label) for label, method, path, payload in PATH_ROUTES],
)
def test_out_of_range_ids_in_the_path_are_not_found(
    app: Flask, world: World, method: str, path: str, payload: dict[str, Any], huge: int
) -> None:
    url = path.format(**world.ids, id=huge)
    assert_refused_without_writes(app, world.ana, method, url, payload, 404, "not_found")


# The limits are exact: what is just inside them is accepted.


def test_a_4000_character_body_is_accepted_by_send_and_edit(app: Flask, world: World) -> None:
    sent = world.ana.post(messages_url(world.ids["group"]), json={"body": f" {LONGEST_BODY} "})
    assert ok(sent, 201)["message"]["body"] == LONGEST_BODY
    edit = world.ana.patch(message_url(world.ids["message"]), json={"body": "y" * 4000})
    assert ok(edit)["message"]["body"] == "y" * 4000


def test_an_80_character_title_is_accepted(world: World) -> None:
    title = "t" * 80
    renamed = world.ana.patch(conversation_url(world.ids["group"]), json={"title": title})
    assert ok(renamed)["conversation"]["title"] == title
    body = {"kind": "group", "title": title, "member_ids": []}
    assert ok(world.ana.post(CONVERSATIONS, json=body), 201)["conversation"]["title"] == title


def test_a_64_character_client_id_is_accepted(world: World) -> None:
    body = {"body": "hi", "client_id": "c" * 64}
    sent = world.ana.post(messages_url(world.ids["group"]), json=body)
    assert ok(sent, 201)["message"]["client_id"] == "c" * 64


def test_a_body_just_under_1_mib_reaches_validation(world: World) -> None:
    payload = as_json({"body": "x" * (MIB - 100)})
    assert len(payload["data"]) < MIB
    response = world.ana.request("POST", messages_url(world.ids["group"]), **payload)
    assert_error(response, 422, "invalid")
