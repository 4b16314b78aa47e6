"""Names and times in the history: display names and initials, a time on every message, an
inline "(edited)", the start of a conversation, and a loading line instead of a blank pane."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from playwright.sync_api import Route, expect
from sqlalchemy import select

from hubbub.models import Message, User, db
from hubbub.services import conversations, messages
from tests.browser.conftest import Tab
from tests.browser.test_history_browser import message_item as item
from tests.browser.test_history_browser import seed_direct, user_named

pytestmark = pytest.mark.browser


def test_a_display_name_set_in_settings_shows_beside_the_username_with_initials(
    app: Flask, live_server: str, sign_in: Callable[..., Tab]
) -> None:
    ana_tab = sign_in("ana")
    bob_tab = sign_in("bob")
    ana, bob = ana_tab.page, bob_tab.page
    ana.get_by_role("navigation", name="Account").get_by_role("link", name="Settings").click()
    expect(ana.get_by_role("heading", name="Your profile")).to_be_visible()
    ana.get_by_label("Display name").fill("Ana Lima")
    ana.get_by_role("button", name="Save").click()
    expect(ana.get_by_role("status")).to_contain_text("Your display name is saved.")
    expect(ana.get_by_label("Display name")).to_have_value("Ana Lima")

    dm = seed_direct(app, "ana", "bob", [("ana", "Hello from Ana"), ("bob", "Hi")])
    bob.goto(f"{live_server}/c/{dm}")
    meta = item(bob, "Hello from Ana").locator(".meta")
    expect(meta.locator(".sender")).to_have_text("Ana Lima")
    expect(meta.locator(".username")).to_have_text("ana")
    expect(meta.locator(".avatar")).to_have_text("AL")
    expect(meta.locator(".avatar")).to_have_attribute("aria-hidden", "true")
    # Without a display name, the username alone and its first letter.
    mine = item(bob, "Hi").locator(".meta")
    expect(mine.locator(".sender")).to_have_text("bob")
    expect(mine.locator(".username")).to_have_count(0)
    expect(mine.locator(".avatar")).to_have_text("B")
    # The DM's header names her too, beside whether she is online.
    expect(bob.locator("#conversation-subtitle")).to_contain_text("Ana Lima · ")
    # So does a group's member list.
    with app.app_context():
        group = conversations.create_group(user_named("bob"), "Names", [user_named("ana").id])
        group_id = group.id
    bob.goto(f"{live_server}/c/{group_id}")
    bob.get_by_role("button", name="Group settings").click()
    names = bob.get_by_role("dialog", name="Group settings").locator(".member-name")
    expect(names).to_have_text(["bob (you)", "Ana Lima · ana"])
    ana_tab.assert_clean()
    bob_tab.assert_clean()


def test_every_message_shows_its_time_on_hover_and_focus(
    app: Flask, live_server: str, sign_in: Callable[..., Tab], make_user: Callable[..., User]
) -> None:
    make_user("bob")
    tab = sign_in("ana")
    page = tab.page
    dm = seed_direct(app, "bob", "ana", [("bob", "first"), ("bob", "second"), ("bob", "third")])
    # The widest times of a 12-hour clock ("10:58 AM"): the gutter must hold them too.
    with app.app_context():
        noon = datetime.now(UTC).replace(hour=10, minute=58, second=0, microsecond=0)
        for n, sent in enumerate(db.session.scalars(select(Message).order_by(Message.id))):
            sent.created_at = noon + timedelta(seconds=20 * n)
        db.session.commit()
    page.goto(f"{live_server}/c/{dm}")
    follow_on = item(page, "second")
    expect(follow_on).to_have_class(re.compile(r"\bcontinued\b"))
    time = follow_on.locator("time")
    opacity = "t => getComputedStyle(t).opacity"
    page.mouse.move(5, 5)
    assert time.evaluate(opacity) == "0", "a follow-on message's time shows without a hover"
    follow_on.hover()
    expect(time).to_be_visible()
    assert time.evaluate(opacity) == "1"
    shown = time.bounding_box()
    body = follow_on.locator(".body").bounding_box()
    assert shown and body and shown["x"] + shown["width"] <= body["x"], (shown, body)
    assert shown["width"] > 20, f"the time is squeezed: {shown}"
    page.mouse.move(5, 5)
    assert time.evaluate(opacity) == "0"
    # Keyboard: a focused control inside the message shows it too.
    follow_on.evaluate("li => li.setAttribute('tabindex', '-1')")
    follow_on.focus()
    assert time.evaluate(opacity) == "1"
    tab.assert_clean()


def test_edited_sits_on_the_line_of_the_text(
    app: Flask, live_server: str, sign_in: Callable[..., Tab], make_user: Callable[..., User]
) -> None:
    make_user("bob")
    tab = sign_in("ana")
    page = tab.page
    dm = seed_direct(app, "ana", "bob", [("ana", "draft")])
    with app.app_context():
        sent = db.session.scalars(select(Message)).one()
        messages.edit_message(user_named("ana"), sent.id, "final words")
    page.goto(f"{live_server}/c/{dm}")
    message = item(page, "final words")
    edited = message.get_by_role("button", name="(edited) show earlier versions")
    expect(edited).to_be_visible()
    body, mark = message.locator(".body").bounding_box(), edited.bounding_box()
    assert body and mark, (body, mark)
    assert mark["x"] > body["x"] + body["width"] - 1, f"(edited) is not after the text: {mark}"
    assert abs((mark["y"] + mark["height"] / 2) - (body["y"] + body["height"] / 2)) < 8, (
        body,
        mark,
    )
    tab.assert_clean()


def test_a_new_conversation_says_where_it_starts_and_loading_is_shown(
    app: Flask, live_server: str, sign_in: Callable[..., Tab], make_user: Callable[..., User]
) -> None:
    make_user("bob")
    tab = sign_in("ana")
    page = tab.page
    dm = seed_direct(app, "ana", "bob", [])

    # While the history is on its way, the pane says so.
    history = re.compile(rf"/api/v1/conversations/{dm}/messages(\?.*)?$")
    held: list[Route] = []
    page.route(history, lambda route: held.append(route))
    page.goto(f"{live_server}/c/{dm}")
    loading = page.get_by_text("Loading messages…")
    expect(loading).to_be_visible()
    expect(page.locator("#history-start")).to_be_hidden()
    for _ in range(50):  # the route's handler runs while Playwright waits
        if held:
            break
        page.wait_for_timeout(100)
    assert held, "the history was not asked for"
    for route in held:
        route.continue_()
    page.unroute(history)
    expect(loading).to_be_hidden()

    start = page.locator("#history-start")
    expect(start).to_have_text("This is the start of your conversation with bob. Say hello!")
    box = page.get_by_role("textbox", name="Message", exact=True)
    box.fill("Hello bob")
    box.press("Enter")
    expect(item(page, "Hello bob")).to_be_visible()
    expect(start).to_have_text("This is the start of your conversation with bob.")
    tab.assert_clean()
