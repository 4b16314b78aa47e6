"""The user directory: active people by username prefix, in name order, twenty at most."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask

from hubbub.models import User
from hubbub.services import users
from tests.support.chat import deactivate
from tests.support.people import people

MakeUser = Callable[..., User]


def found(app: Flask, prefix: str) -> list[str]:
    with app.app_context():
        return [user.username for user in users.search_users(prefix)]


def test_search_matches_the_start_of_usernames(app: Flask, make_user: MakeUser) -> None:
    people(make_user, "anabel", "ana", "banana", "bob")
    assert found(app, "ana") == ["ana", "anabel"]
    assert found(app, "b") == ["banana", "bob"]
    assert found(app, "nab") == []


@pytest.mark.parametrize("prefix", ["ANA", "Ana", "  ana  "])
def test_search_ignores_case_and_surrounding_space(
    app: Flask, make_user: MakeUser, prefix: str
) -> None:
    people(make_user, "Anabel", "ana", "bob")
    assert found(app, prefix) == ["ana", "anabel"]


def test_search_finds_only_active_users(app: Flask, make_user: MakeUser) -> None:
    ana, anabel = people(make_user, "ana", "anabel")
    deactivate(app, anabel)
    assert found(app, "ana") == ["ana"]
    assert found(app, "") == ["ana"]


def test_search_returns_at_most_20_in_username_order(app: Flask, make_user: MakeUser) -> None:
    names = [f"user{n:02d}" for n in range(25)]
    # Registered out of order, so insertion order cannot pass for name order.
    people(make_user, *reversed(names), "other")
    assert found(app, "user") == names[:20]
    assert found(app, "") == sorted([*names, "other"])[:20]


@pytest.mark.parametrize(
    ("prefix", "expected"),
    [("a_", ["a_b"]), ("a%", []), ("_", []), ("%", []), ("a.", ["a.c"])],
)
def test_wildcards_in_the_prefix_are_literal(
    app: Flask, make_user: MakeUser, prefix: str, expected: list[str]
) -> None:
    people(make_user, "a_b", "axb", "abc", "a.c")
    assert found(app, prefix) == expected


def test_a_nul_byte_in_a_search_finds_nobody(app: Flask, make_user: Callable[..., User]) -> None:
    make_user("ana")
    with app.app_context():
        assert users.search_users("\x00") == []
        assert users.search_users("a\x00") == []
