"""PATCH /api/v1/me: the display name, and where it shows."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from sqlalchemy import select

from hubbub.models import User, db
from tests.support import count, csrf_token, login
from tests.support.api import assert_error, create_group, send
from tests.support.people import person

MakeUser = Callable[..., User]
ME = "/api/v1/me"


def stored(app: Flask, user_id: int) -> str | None:
    with app.app_context():
        return db.session.scalar(select(User.display_name).where(User.id == user_id))


def test_patch_me_sets_and_clears_the_display_name(app: Flask, make_user: MakeUser) -> None:
    ana = person(app, make_user, "ana")
    answer = ana.patch(ME, json={"display_name": "  Ana \U0001f600 "})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.get_json()["user"]["display_name"] == "Ana \U0001f600"
    assert ana.get(ME).get_json()["user"]["display_name"] == "Ana \U0001f600"
    assert ana.patch(ME, json={"display_name": None}).get_json()["user"]["display_name"] is None
    assert stored(app, ana.user.id) is None


@pytest.mark.parametrize("value", ["a" * 65, "a\u202eb", "a\x00b", "a\nb", 5, ["x"]], ids=repr)
def test_bad_display_names_are_422_and_change_nothing(
    app: Flask, make_user: MakeUser, value: object
) -> None:
    ana = person(app, make_user, "ana")
    assert ana.patch(ME, json={"display_name": "Before"}).status_code == 200
    error = assert_error(ana.patch(ME, json={"display_name": value}), 422, "invalid")
    assert "display_name" in (error.get("fields") or {}), error
    assert stored(app, ana.user.id) == "Before"
    assert count(app, User) == 1


def test_unknown_fields_are_refused(app: Flask, make_user: MakeUser) -> None:
    ana = person(app, make_user, "ana")
    assert_error(ana.patch(ME, json={"display_name": "A", "username": "root"}), 422, "invalid")
    assert stored(app, ana.user.id) is None


def test_patch_me_needs_a_caller(app: Flask) -> None:
    assert_error(app.test_client().patch(ME, json={"display_name": "x"}), 401, "unauthenticated")


def test_a_browser_session_needs_the_csrf_header(app: Flask, make_user: MakeUser) -> None:
    ana = make_user("ana")
    browser = app.test_client()
    assert login(browser, "ana").status_code == 302
    assert_error(browser.patch(ME, json={"display_name": "x"}), 403, "csrf_failed")
    assert stored(app, ana.id) is None
    headers = {"X-CSRFToken": csrf_token(browser, "/dashboard")}
    assert browser.patch(ME, json={"display_name": "x"}, headers=headers).status_code == 200
    assert stored(app, ana.id) == "x"


def test_the_display_name_shows_in_members_senders_and_search(
    app: Flask, make_user: MakeUser
) -> None:
    ana = person(app, make_user, "ana")
    bob = person(app, make_user, "bob")
    assert ana.patch(ME, json={"display_name": "\u5c71\u7530"}).status_code == 200
    group = create_group(ana, "Names", bob)["id"]
    send(ana, group, "hello")
    members = bob.get(f"/api/v1/conversations/{group}").get_json()["conversation"]["members"]
    shown = {m["user"]["username"]: m["user"]["display_name"] for m in members}
    assert shown == {"ana": "\u5c71\u7530", "bob": None}
    page = bob.get(f"/api/v1/conversations/{group}/messages").get_json()["messages"]
    assert page[0]["sender"] == {
        "id": ana.user.id,
        "username": "ana",
        "display_name": "\u5c71\u7530",
    }
    found = bob.get("/api/v1/users?q=an").get_json()["users"]
    assert found == [{"id": ana.user.id, "username": "ana", "display_name": "\u5c71\u7530"}]
