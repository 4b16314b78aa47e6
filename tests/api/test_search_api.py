"""GET /api/v1/search through HTTP, as a script uses it: the answer's shape, pages, and the
422s that say what is wrong with a query and change nothing."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from hubbub.services import search
from tests.support.api import (
    API,
    assert_error,
    create_group,
    members_url,
    message_url,
    messages_url,
    ok,
    open_direct,
    send,
    snapshot,
)
from tests.support.people import Person

SEARCH = f"{API}/search"


def searched(who: Person, q: str, **params: Any) -> dict[str, Any]:
    return ok(who.get(SEARCH, query_string={"q": q, **params}))


def ids(page: dict[str, Any]) -> list[int]:
    return [result["message"]["id"] for result in page["results"]]


def test_a_result_is_the_message_as_the_history_shows_it_with_its_conversation(
    app: Flask, ana: Person, bob: Person
) -> None:
    group = create_group(ana, "Garden", bob)
    dm = open_direct(ana, bob)
    in_group = send(ana, group["id"], "Tomatoes need **water**, see https://example.com/tomato")
    send(bob, group["id"], "ok")
    in_dm = send(bob, dm["id"], "tomatoes are ripe")
    page = searched(bob, "TOMATO")
    assert set(page) == {"results", "next_before"} and page["next_before"] is None
    assert [set(result) for result in page["results"]] == [{"message", "conversation"}] * 2
    history = {
        m["id"]: m
        for cid in (group["id"], dm["id"])
        for m in ok(bob.get(messages_url(cid)))["messages"]
    }
    assert [r["message"] for r in page["results"]] == [
        history[in_dm["id"]],
        history[in_group["id"]],
    ]
    assert [r["conversation"] for r in page["results"]] == [
        {"id": dm["id"], "kind": "direct", "title": None},
        {"id": group["id"], "kind": "group", "title": "Garden"},
    ]
    assert ids(searched(bob, "tomato has:link")) == [in_group["id"]]
    assert ids(searched(bob, f"from:ana in:{group['id']}")) == [in_group["id"]]


def test_pages_follow_next_before_to_the_end(app: Flask, ana: Person, bob: Person) -> None:
    dm = open_direct(ana, bob)["id"]
    sent = [send(ana, dm, f"report {n}")["id"] for n in range(5)]
    seen, before = [], None
    while True:
        page = searched(bob, "report", limit=2, **({"before": before} if before else {}))
        seen += ids(page)
        before = page["next_before"]
        if before is None:
            break
        assert before == seen[-1]
    assert seen == sent[::-1]
    assert len(ids(searched(bob, "report"))) == 5  # 20 at most by default


def test_edits_deletions_and_leaving_are_seen_at_once(
    app: Flask, ana: Person, bob: Person, cara: Person
) -> None:
    group = create_group(ana, "Crew", bob, cara)["id"]
    edited = send(ana, group, "lunch at noon")["id"]
    gone = send(cara, group, "lunch is on me")["id"]
    ok(ana.patch(message_url(edited), json={"body": "dinner at eight"}))
    ok(cara.delete(message_url(gone)))
    assert ids(searched(bob, "lunch")) == []
    assert ids(searched(bob, "dinner")) == [edited]
    assert bob.delete(members_url(group, bob.id)).status_code == 204
    assert ids(searched(bob, "dinner")) == []
    assert ids(searched(bob, f"in:{group}")) == []


def test_an_outsider_finds_nothing_and_learns_nothing(
    app: Flask, ana: Person, bob: Person, cara: Person
) -> None:
    group = create_group(ana, "Private", bob)["id"]
    send(ana, group, "the password is swordfish")
    for q in ("swordfish", f"in:{group}", "from:ana", f"in:{group} swordfish"):
        assert searched(cara, q) == {"results": [], "next_before": None}
    assert searched(cara, f"in:{group}") == searched(cara, "in:999999")


@pytest.mark.parametrize(
    ("q", "message", "says"),
    [
        ("ab", search.SHORT, '"ab"'),
        ("hello a", search.SHORT, '"a"'),
        ("   ", search.EMPTY, "filter"),
        ("", search.EMPTY, "filter"),
        ("hello in:abc", search.BAD_FILTER, "in:abc"),
        ("hello has:foo", search.BAD_FILTER, "has:foo"),
        ("before:2026-02-30", search.BAD_FILTER, "YYYY-MM-DD"),
        ("after:tomorrow", search.BAD_FILTER, "after:tomorrow"),
    ],
)
def test_a_bad_query_answers_422_saying_what_is_wrong_and_changes_nothing(
    app: Flask, ana: Person, bob: Person, q: str, message: str, says: str
) -> None:
    send(ana, open_direct(ana, bob)["id"], "hello there")
    before = snapshot(app)
    error = assert_error(ana.get(SEARCH, query_string={"q": q}), 422, "invalid")
    assert error["message"] == message
    assert set(error["fields"]) == {"q"} and says in error["fields"]["q"]
    assert snapshot(app) == before


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({}, "q"),
        ({"q": "x" * (search.QUERY_MAX + 1)}, "q"),
        ({"q": "hello", "limit": 0}, "limit"),
        ({"q": "hello", "limit": search.PAGE_MAX + 1}, "limit"),
        ({"q": "hello", "before": -1}, "before"),
        ({"q": "hello", "before": "abc"}, "before"),
    ],
)
def test_bad_parameters_answer_422_naming_them(
    ana: Person, params: dict[str, Any], field: str
) -> None:
    error = assert_error(ana.get(SEARCH, query_string=params), 422, "invalid")
    assert field in error["fields"]


def test_search_needs_credentials(client: FlaskClient) -> None:
    assert_error(client.get(SEARCH, query_string={"q": "hello"}), 401)
