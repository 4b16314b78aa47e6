"""A group's activity in its history, in Chromium: renames, joins, removals and leaves show as
lines between the messages they came between, live as they happen, after a reload, and in the
older pages they belong to."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from playwright.sync_api import Page
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from hubbub.services import conversations, members, messages, reads
from tests.browser.conftest import Tab
from tests.browser.test_history_browser import (
    RECORD_ANNOUNCEMENTS,
    message_item,
    user_named,
    wait_for_announcement,
)

pytestmark = pytest.mark.browser

# The history as a reader meets it: each message's text, and each line of activity's.
HISTORY = """() => [...document.querySelectorAll("#message-list > li")].map((li) =>
  li.classList.contains("activity")
    ? "— " + li.querySelector(".activity-text").textContent
    : li.querySelector(".body").textContent)"""


@pytest.fixture
def live_server(app: Flask, serve: Callable[[Flask], str]) -> str:
    """Serve the test's own app, so that what the test changes through the services reaches
    the open page at once."""
    return serve(app)


def expect_history(page: Page, expected: list[str]) -> None:
    try:
        page.wait_for_function(
            f"want => JSON.stringify(({HISTORY})()) === JSON.stringify(want)", arg=expected
        )
    except PlaywrightTimeout:
        raise AssertionError(f"the history reads {page.evaluate(HISTORY)}") from None


def new_group(owner: str, title: str, others: list[str]) -> int:
    made = conversations.create_group(user_named(owner), title, [user_named(n).id for n in others])
    return int(made.id)


def send(app: Flask, sender: str, conversation_id: int, body: str) -> int:
    with app.app_context():
        message, _ = messages.send_message(user_named(sender), conversation_id, body)
        return int(message.id)


def test_renames_joins_removals_and_leaves_show_in_place_live_and_after_a_reload(
    app: Flask, live_server: str, sign_in: Callable[..., Tab], make_user: Callable[..., object]
) -> None:
    for name in ("ana", "bob", "dan"):
        make_user(name)
    cara = sign_in("cara")
    page = cara.page
    with app.app_context():
        group = int(
            conversations.create_group(user_named("ana"), "Crew", [user_named("bob").id]).id
        )
    send(app, "ana", group, "one")
    with app.app_context():
        members.add_member(user_named("ana"), group, user_named("cara").id)
    send(app, "bob", group, "two")
    with app.app_context():
        conversations.rename_group(user_named("ana"), group, "Night crew")

    page.goto(f"{live_server}/c/{group}")
    before = [
        "one",
        "— ana added you",
        "two",
        "— ana renamed the group from “Crew” to “Night crew”",
    ]
    expect_history(page, before)
    page.evaluate(RECORD_ANNOUNCEMENTS)

    # Live, each at the end as it happens, and said to screen readers.
    with app.app_context():
        members.add_member(user_named("ana"), group, user_named("dan").id)
    expect_history(page, [*before, "— ana added dan"])
    wait_for_announcement(page, "ana added dan")
    send(app, "bob", group, "three")
    with app.app_context():
        members.remove_member(user_named("ana"), group, user_named("dan").id)
        members.remove_member(user_named("bob"), group, user_named("bob").id)
    after = [*before, "— ana added dan", "three", "— ana removed dan", "— bob left"]
    expect_history(page, after)

    # A line of activity is no stop for the arrow keys, and starts a new group of messages.
    message_item(page, "three").focus()
    page.keyboard.press("ArrowUp")
    assert page.evaluate("document.activeElement.querySelector('.body')?.textContent") == "two"
    assert "continued" not in (message_item(page, "two").get_attribute("class") or "")

    page.reload()
    expect_history(page, after)
    cara.assert_clean()


def test_older_activity_comes_with_the_older_page_it_belongs_to(
    app: Flask, live_server: str, sign_in: Callable[..., Tab], make_user: Callable[..., object]
) -> None:
    make_user("ana")
    make_user("cara")
    bob = sign_in("bob")
    page = bob.page
    with app.app_context():
        group = int(
            conversations.create_group(user_named("ana"), "Crew", [user_named("bob").id]).id
        )
        members.add_member(user_named("ana"), group, user_named("cara").id)  # before any message
    last = 0
    for n in range(1, 61):
        last = send(app, "ana", group, f"m{n}")
        if n == 5:
            with app.app_context():
                conversations.rename_group(user_named("ana"), group, "Crew 2")
    with app.app_context():
        reads.mark_read(user_named("bob"), group, last)

    page.goto(f"{live_server}/c/{group}")
    expect_history(page, [f"m{n}" for n in range(11, 61)])
    page.get_by_role("button", name="Load older messages").click()
    expect_history(
        page,
        [
            "— ana added cara",
            *(f"m{n}" for n in range(1, 6)),
            "— ana renamed the group from “Crew” to “Crew 2”",
            *(f"m{n}" for n in range(6, 61)),
        ],
    )
    bob.assert_clean()
