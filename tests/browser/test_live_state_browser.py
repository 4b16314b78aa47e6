"""The chat page keeps its state from stream events, in Chromium.

The conversation list is asked for once; after that every message, edit, deletion, read marker,
rename, new conversation and removal reaches it as an event that it applies itself. What I may
do in a group (rename, roles, remove, delete others' messages) is what the server's answers
say, and follows a change of my role live.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from playwright.sync_api import Locator, Page, Request, Route, expect

from hubbub.services import conversations, members, messages, reads
from tests.browser.conftest import DESKTOP, Tab, log_in_through_the_form
from tests.browser.test_history_browser import message_item, user_named

pytestmark = pytest.mark.browser

LIST = "/api/v1/conversations"
ONE = re.compile(r"^/api/v1/conversations/\d+$")


@pytest.fixture
def live_server(app: Flask, serve: Callable[[Flask], str]) -> str:
    """Serve the test's own app, so that what the test writes through the services reaches the
    open pages at once over the in-process bus."""
    return serve(app)


class Requests:
    """The GETs of conversations a page makes: the whole list, and one conversation at a time."""

    def __init__(self, page: Page) -> None:
        self.lists = 0
        self.ones = 0
        page.on("request", self.seen)

    def seen(self, request: Request) -> None:
        if request.method != "GET":
            return
        where = urlsplit(request.url).path
        if where == LIST:
            self.lists += 1
        elif ONE.match(where):
            self.ones += 1


def entries(page: Page) -> Locator:
    return page.get_by_role("navigation", name="Your conversations").get_by_role("link")


def entry(page: Page, name: str) -> Locator:
    return entries(page).filter(has=page.locator(".name").get_by_text(name, exact=True))


def send(app: Flask, sender: str, conversation_id: int, body: str) -> int:
    with app.app_context():
        message, _ = messages.send_message(user_named(sender), conversation_id, body)
        return int(message.id)


def test_the_list_applies_events_and_is_asked_for_once(
    app: Flask,
    live_server: str,
    open_tab: Callable[..., Tab],
    make_user: Callable[..., Any],
) -> None:
    for name in ("ana", "bob", "cara", "dan"):
        make_user(name)
    with app.app_context():
        ana = user_named("ana")
        with_bob = int(conversations.open_direct(ana, user_named("bob").id)[0].id)
        with_cara = int(conversations.open_direct(ana, user_named("cara").id)[0].id)
    send(app, "bob", with_bob, "hello from bob")
    send(app, "cara", with_cara, "hello from cara")

    tab = open_tab("ana", viewport=DESKTOP)
    page = tab.page
    requests = Requests(page)
    log_in_through_the_form(page, live_server, "ana")
    names = entries(page).locator(".name")
    expect(names).to_have_text(["cara", "bob"])
    expect(entry(page, "bob")).to_have_accessible_name("bob, 1 unread message")
    assert requests.lists == 1

    # A message moves its conversation to the top and counts as unread.
    send(app, "bob", with_bob, "second from bob")
    expect(names).to_have_text(["bob", "cara"])
    expect(entry(page, "bob")).to_have_accessible_name("bob, 2 unread messages")
    expect(entry(page, "bob")).to_contain_text("bob: second from bob")
    expect(entry(page, "bob").locator(".badge")).to_have_text("2")

    # My own message (from another device) moves it up, and marks what came before it read.
    send(app, "ana", with_cara, "hi cara")
    expect(names).to_have_text(["cara", "bob"])
    expect(entry(page, "cara")).to_contain_text("You: hi cara")
    expect(entry(page, "cara")).to_have_accessible_name("cara")

    # An edit of the last message changes the preview only.
    third = send(app, "bob", with_bob, "thrid from bob")
    expect(entry(page, "bob")).to_have_accessible_name("bob, 3 unread messages")
    with app.app_context():
        messages.edit_message(user_named("bob"), third, "third from bob")
    expect(entry(page, "bob")).to_contain_text("bob: third from bob")
    expect(names).to_have_text(["bob", "cara"])
    expect(entry(page, "bob")).to_have_accessible_name("bob, 3 unread messages")

    # An unread message deleted is no longer counted.
    with app.app_context():
        messages.delete_message(user_named("bob"), third)
    expect(entry(page, "bob")).to_contain_text("bob: message deleted")
    expect(entry(page, "bob")).to_have_accessible_name("bob, 2 unread messages")

    # Read elsewhere (another tab, another device): the count goes.
    with app.app_context():
        reads.mark_read(user_named("ana"), with_bob, third)
    expect(entry(page, "bob")).to_have_accessible_name("bob")
    expect(entry(page, "bob").locator(".badge")).to_have_count(0)

    # A new group turns up on top, is renamed, and goes when I am removed from it.
    with app.app_context():
        group = conversations.create_group(user_named("dan"), "Board games", [user_named("ana").id])
        group_id = int(group.id)
    expect(names).to_have_text(["Board games", "bob", "cara"])
    expect(entry(page, "Board games")).to_contain_text("No messages yet")
    send(app, "dan", group_id, "Friday?")
    expect(entry(page, "Board games")).to_have_accessible_name("Board games, 1 unread message")
    with app.app_context():
        conversations.rename_group(user_named("dan"), group_id, "Game night")
    expect(names).to_have_text(["Game night", "bob", "cara"])
    expect(entry(page, "Game night")).to_contain_text("dan: Friday?")
    with app.app_context():
        members.remove_member(user_named("dan"), group_id, user_named("ana").id)
    expect(names).to_have_text(["bob", "cara"])

    assert requests.lists == 1, "the list was asked for again instead of applying the events"
    tab.assert_clean()


def test_role_controls_follow_the_servers_permissions(
    app: Flask,
    live_server: str,
    open_tab: Callable[..., Tab],
    make_user: Callable[..., Any],
) -> None:
    make_user("ana")
    make_user("bob")
    make_user("cara")
    with app.app_context():
        group = conversations.create_group(
            user_named("ana"), "Crew", [user_named("bob").id, user_named("cara").id]
        )
        group_id = int(group.id)
    send(app, "cara", group_id, "hi from cara")
    tab = open_tab("bob", viewport=DESKTOP)
    page = tab.page
    log_in_through_the_form(page, live_server, "bob")
    expect(entry(page, "Crew")).to_be_visible()  # the dashboard is done asking
    requests = Requests(page)
    page.goto(f"{live_server}/c/{group_id}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Crew")
    from_cara = message_item(page, "hi from cara")
    expect(from_cara).to_be_visible()

    # A plain member: nothing to manage, and only their own messages to delete.
    page.get_by_role("button", name="Group settings").click()
    dialog = page.get_by_role("dialog", name="Group settings")
    expect(dialog.get_by_role("listitem")).to_have_count(3)
    expect(dialog.get_by_role("textbox", name="Rename group")).to_be_hidden()
    expect(dialog.get_by_role("combobox")).to_have_count(0)
    expect(dialog.get_by_role("button", name=re.compile(r"^Remove "))).to_have_count(0)
    expect(from_cara.get_by_role("button", name="Delete")).to_have_count(0)

    # Made an admin while the dialog is open: the page asks for this one conversation again,
    # and shows what an admin may do. Nothing for the owner, nor for me (I leave instead).
    with app.app_context():
        members.change_role(user_named("ana"), group_id, user_named("bob").id, "admin")
    expect(dialog.get_by_role("textbox", name="Rename group")).to_be_visible()
    cara_role = dialog.get_by_label("Role of cara")
    expect(cara_role).to_be_visible()
    expect(cara_role.locator("option")).to_have_text(["admin", "member"])
    expect(cara_role).to_have_value("member")
    expect(dialog.get_by_role("button", name="Remove cara")).to_be_visible()
    expect(dialog.get_by_label("Role of ana")).to_have_count(0)
    expect(dialog.get_by_role("button", name="Remove ana")).to_have_count(0)
    expect(dialog.get_by_label("Role of bob")).to_have_count(0)
    expect(dialog.get_by_role("button", name="Remove bob")).to_have_count(0)
    expect(dialog.get_by_role("button", name="Leave group")).to_be_visible()
    dialog.get_by_role("button", name="Close").click()
    from_cara.hover()
    expect(from_cara.get_by_role("button", name="Delete")).to_be_visible()
    assert requests.lists == 1

    # The page shows what the server says, not rules of its own: a server that lets this
    # admin neither remove anyone nor delete others' messages gets neither button.
    def stricter(route: Route) -> None:
        response = route.fetch()
        answer = response.json()
        for conversation in answer.get("conversations", [answer.get("conversation")]):
            conversation["permissions"]["remove"] = []
            conversation["permissions"]["delete_any_message"] = False
            conversation["permissions"]["assign"]["member"] = ["member"]
        route.fulfill(response=response, body=json.dumps(answer))

    page.route(re.compile(r"/api/v1/conversations(/\d+)?$"), stricter)
    page.reload()
    expect(page.get_by_role("heading", level=1)).to_have_text("Crew")
    expect(from_cara).to_be_visible()
    from_cara.hover()
    # React and Reply, as anyone may; no Delete.
    actions = from_cara.get_by_role("group", name="Message actions").get_by_role("button")
    expect(actions).to_have_text(["React", "Reply"])
    page.get_by_role("button", name="Group settings").click()
    expect(dialog.get_by_role("textbox", name="Rename group")).to_be_visible()
    expect(dialog.get_by_label("Role of cara").locator("option")).to_have_text(["member"])
    expect(dialog.get_by_role("button", name=re.compile(r"^Remove "))).to_have_count(0)
    tab.assert_clean()
