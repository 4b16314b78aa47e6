"""A conversation's activity through HTTP: renames, joins, removals and leaves, each placed after
the message that was newest when it happened."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from hubbub.models import Activity
from tests.support import count
from tests.support.api import (
    assert_error,
    conversation_url,
    create_group,
    members_url,
    ok,
    open_direct,
    send,
)
from tests.support.people import MakeUser, Person, person


def activity_url(conversation_id: int, query: str = "") -> str:
    return f"{conversation_url(conversation_id)}/activity{'?' + query if query else ''}"


def entries(who: Person, conversation_id: int, query: str = "") -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = ok(who.get(activity_url(conversation_id, query)))["activity"]
    return found


def said(entry: dict[str, Any]) -> tuple[Any, ...]:
    subject = entry["subject"]["username"] if entry["subject"] else None
    return (entry["action"], entry["actor"]["username"], subject, entry["after_message_id"])


def test_each_change_to_a_group_is_noted_after_the_message_before_it(
    app: Flask, ana: Person, bob: Person, cara: Person
) -> None:
    group = create_group(ana, "Crew", bob)["id"]
    ok(ana.patch(conversation_url(group), json={"title": "Night crew"}))
    first = send(ana, group, "hello")["id"]
    ok(ana.post(members_url(group), json={"user_id": cara.id}), 201)
    second = send(bob, group, "hi cara")["id"]
    ok(ana.delete(members_url(group, cara.id)), 204)
    ok(bob.delete(members_url(group, bob.id)), 204)

    found = entries(ana, group)
    assert [said(e) for e in found] == [
        ("left", "bob", "bob", second),
        ("removed", "ana", "cara", second),
        ("added", "ana", "cara", first),
        ("renamed", "ana", None, 0),
    ]
    renamed = found[-1]
    assert (renamed["title"], renamed["old_title"]) == ("Night crew", "Crew")
    assert all(e["conversation_id"] == group for e in found)
    assert [e["id"] for e in found] == sorted((e["id"] for e in found), reverse=True)
    assert found[1]["title"] is None and found[1]["old_title"] is None
    assert count(app, Activity) == 4


def test_pages_follow_the_history_pages_by_the_messages_they_follow(
    app: Flask, ana: Person, bob: Person, cara: Person
) -> None:
    group = create_group(ana, "Crew")["id"]
    ok(ana.post(members_url(group), json={"user_id": bob.id}), 201)  # after 0
    m1 = send(ana, group, "one")["id"]
    ok(ana.post(members_url(group), json={"user_id": cara.id}), 201)  # after m1
    m2 = send(ana, group, "two")["id"]
    ok(ana.patch(conversation_url(group), json={"title": "Crew 2"}))  # after m2

    assert [e["after_message_id"] for e in entries(ana, group, f"from_message={m2}")] == [m2]
    assert [e["after_message_id"] for e in entries(ana, group, f"from_message={m1}")] == [m2, m1]
    older = entries(ana, group, f"before_message={m2}")
    assert [e["after_message_id"] for e in older] == [m1, 0]
    assert [e["after_message_id"] for e in entries(ana, group, f"before_message={m1}")] == [0]

    page = ok(ana.get(activity_url(group, "limit=2")))
    assert [e["after_message_id"] for e in page["activity"]] == [m2, m1]
    assert page["has_more"] is True
    rest = ok(ana.get(activity_url(group, f"limit=2&before={page['activity'][-1]['id']}")))
    assert [e["after_message_id"] for e in rest["activity"]] == [0]
    assert rest["has_more"] is False


def test_renaming_to_the_same_title_or_being_refused_notes_nothing(
    app: Flask, ana: Person, bob: Person
) -> None:
    group = create_group(ana, "Crew", bob)["id"]
    ok(ana.patch(conversation_url(group), json={"title": "  Crew "}))
    assert_error(bob.patch(conversation_url(group), json={"title": "Bob's"}), 403)
    assert_error(bob.delete(members_url(group, ana.id)), 403)
    assert_error(ana.post(members_url(group), json={"user_id": bob.id}), 409)
    assert entries(ana, group) == []
    assert count(app, Activity) == 0


def test_a_direct_conversation_has_no_activity(app: Flask, ana: Person, bob: Person) -> None:
    direct = open_direct(ana, bob)["id"]
    send(ana, direct, "hi")
    assert ok(bob.get(activity_url(direct))) == {"activity": [], "has_more": False}


def test_only_members_see_the_activity_and_others_get_the_missing_answer(
    app: Flask, make_user: MakeUser, ana: Person, bob: Person
) -> None:
    eve = person(app, make_user, "eve")
    group = create_group(ana, "Crew", bob)["id"]
    ok(ana.delete(members_url(group, bob.id)), 204)
    assert len(entries(ana, group)) == 1
    for outsider in (eve, bob):  # never in it, and removed from it
        error = assert_error(outsider.get(activity_url(group)), 404, "not_found")
        assert error == assert_error(outsider.get(activity_url(group + 1000)), 404)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=ten", "limit"),
        ("from_message=-1", "from_message"),
        ("before_message=x", "before_message"),
        ("before=2147483648", "before"),
    ],
)
def test_bad_paging_is_refused_naming_the_parameter_and_writes_nothing(
    app: Flask, ana: Person, bob: Person, query: str, field: str
) -> None:
    group = create_group(ana, "Crew", bob)["id"]
    ok(ana.delete(members_url(group, bob.id)), 204)
    error = assert_error(ana.get(activity_url(group, query)), 422)
    assert set(error["fields"]) == {field}
    assert count(app, Activity) == 1
