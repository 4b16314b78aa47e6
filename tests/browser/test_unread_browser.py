"""Unread messages in Chromium: where a conversation opens, how far it is marked read, the
"New messages below" pill and the count in the tab's title."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Locator, Page, expect

from hubbub.models import User
from hubbub.services import conversations, messages, reads
from tests.browser.conftest import DESKTOP, PHONE, Tab
from tests.browser.test_history_browser import message_item, user_named

pytestmark = pytest.mark.browser

READ_LINES = 30
UNREAD_LINES = 70


@pytest.fixture
def live_server(app: Flask, serve: Callable[[Flask], str]) -> str:
    """Serve the test's own app, so that what the test writes through the services reaches the
    open page at once over the in-process bus."""
    return serve(app)


def seed_unread(app: Flask) -> int:
    """ana and bob's DM: 30 messages ana has read, then 70 from bob she has not."""
    with app.app_context():
        ana, bob = user_named("ana"), user_named("bob")
        conversation, _ = conversations.open_direct(bob, ana.id)
        last = None
        for i in range(1, READ_LINES + 1):
            last, _ = messages.send_message(bob if i % 2 else ana, conversation.id, f"read {i}")
        assert last is not None
        reads.mark_read(ana, conversation.id, last.id)
        for i in range(1, UNREAD_LINES + 1):
            messages.send_message(bob, conversation.id, f"unread {i}")
        return int(conversation.id)


def send(app: Flask, sender: str, to: str, body: str) -> None:
    with app.app_context():
        conversation, _ = conversations.open_direct(user_named(sender), user_named(to).id)
        messages.send_message(user_named(sender), conversation.id, body)


def listing(page: Page, base: str, conversation_id: int) -> dict[str, Any]:
    """The conversation as GET /api/v1/conversations has it for the signed-in person."""
    answer = page.request.get(f"{base}/api/v1/conversations")
    assert answer.ok, answer.status
    found = [c for c in answer.json()["conversations"] if c["id"] == conversation_id]
    assert found, conversation_id
    return dict(found[0])


def settled_unread(page: Page, base: str, conversation_id: int) -> int:
    """The server's unread count once the page has stopped moving the marker."""
    count = listing(page, base, conversation_id)["unread_count"]
    for _ in range(20):
        time.sleep(0.15)
        again = listing(page, base, conversation_id)["unread_count"]
        if again == count:
            return int(count)
        count = again
    return int(count)


def eventually(read: Callable[[], int], holds: Callable[[int], bool], what: str) -> int:
    """read() once it satisfies holds, within five seconds."""
    deadline = time.monotonic() + 5
    value = read()
    while not holds(value):
        assert time.monotonic() < deadline, f"{what}: still {value}"
        time.sleep(0.1)
        value = read()
    return value


def in_history(page: Page, item: Locator) -> bool:
    """Whether any of the message shows inside the scrolled history."""
    view = page.get_by_label("Message history").bounding_box()
    box = item.bounding_box()
    assert view and box
    return box["y"] < view["y"] + view["height"] and box["y"] + box["height"] > view["y"]


def at_bottom(page: Page) -> bool:
    return bool(
        page.get_by_label("Message history").evaluate(
            "e => e.scrollHeight - e.scrollTop - e.clientHeight < 2"
        )
    )


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_opens_at_the_first_unread_and_marks_only_what_is_seen(
    live_server: str,
    app: Flask,
    sign_in: Callable[..., Tab],
    make_user: Callable[..., User],
    viewport: dict[str, int],
) -> None:
    make_user("bob")
    tab = sign_in("ana", viewport=viewport)
    page = tab.page
    conversation_id = seed_unread(app)
    assert listing(page, live_server, conversation_id)["unread_count"] == UNREAD_LINES

    page.goto(f"{live_server}/c/{conversation_id}")
    scroller = page.get_by_label("Message history")
    divider = page.locator(".unread-divider")
    expect(divider).to_be_visible()
    expect(message_item(page, "unread 1")).to_be_in_viewport()
    # The divider sits just below the top of the history, the reading starts under it.
    view, line = scroller.bounding_box(), divider.bounding_box()
    assert view and line
    assert view["y"] <= line["y"] <= view["y"] + 40, (view, line)
    expect(message_item(page, f"unread {UNREAD_LINES}")).not_to_be_in_viewport()
    assert not in_history(page, message_item(page, f"read {READ_LINES - 2}"))

    # Only what is on screen is read: the marker stops at a message in view.
    left = settled_unread(page, live_server, conversation_id)
    assert 0 < left < UNREAD_LINES, left
    marker = listing(page, live_server, conversation_id)["last_read_message_id"]
    seen = page.locator(f'li.message[data-id="{marker}"]')
    assert in_history(page, seen), marker
    # The next message after the marker is not wholly on screen yet.
    following = page.locator(f'li.message[data-id="{marker}"] + li.message')
    box, view = following.bounding_box(), scroller.bounding_box()
    assert box and view and box["y"] + min(box["height"], 32) > view["y"] + view["height"]

    # A screen further down, more is read, but not all of it.
    scroller.evaluate("e => { e.scrollTop += e.clientHeight * 0.8; }")
    fewer = eventually(
        lambda: settled_unread(page, live_server, conversation_id),
        lambda n: n < left,
        "unread after a screen more",
    )
    assert fewer > 0, fewer

    # Read to the end: nothing is left.
    scroller.evaluate("e => { e.scrollTop = e.scrollHeight; }")
    eventually(
        lambda: listing(page, live_server, conversation_id)["unread_count"],
        lambda n: n == 0,
        "unread at the end",
    )
    tab.assert_clean()


def test_new_messages_below_pill_and_the_count_in_the_title(
    live_server: str, app: Flask, sign_in: Callable[..., Tab], make_user: Callable[..., User]
) -> None:
    make_user("bob")
    make_user("carol")
    tab = sign_in("ana")
    page = tab.page
    conversation_id = seed_unread(app)
    with app.app_context():
        conversations.open_direct(user_named("carol"), user_named("ana").id)

    page.goto(f"{live_server}/c/{conversation_id}")
    scroller = page.get_by_label("Message history")
    expect(page.locator(".unread-divider")).to_be_in_viewport()
    # The title counts what the server still counts unread (a screenful is read already).
    left = settled_unread(page, live_server, conversation_id)
    assert 0 < left < UNREAD_LINES
    expect(page).to_have_title(f"({left}) bob · Hubbub")

    # Scrolled up, a new message gives a sign, and nothing moves.
    pill = page.get_by_role("button", name=re.compile("New messages below"))
    expect(pill).to_be_hidden()
    before = scroller.evaluate("e => e.scrollTop")
    send(app, "bob", "ana", "are you there?")
    expect(pill).to_be_visible()
    assert scroller.evaluate("e => e.scrollTop") == before
    view, box = scroller.bounding_box(), pill.bounding_box()
    assert view and box
    assert view["y"] <= box["y"] and box["y"] + box["height"] <= view["y"] + view["height"], (
        view,
        box,
    )
    expect(message_item(page, "are you there?")).not_to_be_in_viewport()

    # Its click goes to the newest, which is then read: the title loses its count.
    pill.click()
    expect(message_item(page, "are you there?")).to_be_in_viewport()
    assert at_bottom(page)
    expect(pill).to_be_hidden()
    expect(page).to_have_title("bob · Hubbub")

    # At the end, new messages keep the history pinned there, with no pill, and are read.
    send(app, "bob", "ana", "lunch?")
    expect(message_item(page, "lunch?")).to_be_in_viewport()
    assert at_bottom(page)
    expect(pill).to_be_hidden()
    eventually(
        lambda: listing(page, live_server, conversation_id)["unread_count"],
        lambda n: n == 0,
        "unread while pinned to the end",
    )

    # The title counts other conversations too, as chat apps do.
    send(app, "carol", "ana", "hi")
    send(app, "carol", "ana", "ping")
    expect(page).to_have_title("(2) bob · Hubbub")
    tab.assert_clean()


def test_unread_further_back_than_the_first_view_is_a_jump_away(
    app: Flask, live_server: str, sign_in: Callable[..., Tab], make_user: Callable[..., User]
) -> None:
    """260 unread: more than the first view loads. The page opens at the end, says how many are
    new, marks nothing read, and one click loads back to the first of them."""
    make_user("bob")
    tab = sign_in("ana")
    page = tab.page
    with app.app_context():
        ana, bob = user_named("ana"), user_named("bob")
        conversation, _ = conversations.open_direct(bob, ana.id)
        last, _ = messages.send_message(ana, conversation.id, "where we stopped")
        reads.mark_read(ana, conversation.id, last.id)
        for i in range(1, 261):
            messages.send_message(bob, conversation.id, f"backlog {i}")
        cid = int(conversation.id)
    page.goto(f"{live_server}/c/{cid}")
    jump = page.get_by_role("button", name=re.compile(r"^260 new messages"))
    expect(jump).to_be_visible()
    expect(jump).to_be_in_viewport()
    expect(message_item(page, "backlog 260")).to_be_in_viewport(ratio=1)
    # No divider among the loaded ones: none of them is where reading starts.
    expect(page.locator(".unread-divider")).to_have_count(0)
    assert settled_unread(page, live_server, cid) == 260, "opening far away marked messages read"

    jump.click()
    expect(jump).to_be_hidden()
    expect(message_item(page, "backlog 1")).to_be_in_viewport()
    divider = page.locator(".unread-divider")
    expect(divider).to_have_count(1)
    expect(message_item(page, "backlog 1").locator(".unread-divider")).to_have_count(1)
    eventually(
        lambda: settled_unread(page, live_server, cid),
        lambda n: 0 < n < 260,
        "reading from the first unread marks what is seen",
    )
    tab.assert_clean()
