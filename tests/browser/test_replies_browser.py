"""Replies in Chromium: answering a message by mouse, keyboard and touch, the quote that follows
the original's edits and deletion live, and a click on it that goes back, loading older
history when the original is further back than the page."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from flask import Flask
from playwright.sync_api import Locator, Page, expect
from sqlalchemy import select

from hubbub.models import Message, User, db
from hubbub.services import messages
from tests.browser.conftest import PHONE, Tab
from tests.browser.test_accounts_browser import assert_no_horizontal_scroll
from tests.browser.test_chat_browser import composer, hover_action
from tests.browser.test_history_browser import message_item, seed_direct, user_named

pytestmark = pytest.mark.browser


@pytest.fixture
def live_server(app: Flask, serve: Callable[[Flask], str]) -> str:
    """Serve the test's own app, so that what the test changes through the services reaches
    the open pages at once."""
    return serve(app)


def id_of(app: Flask, body: str) -> int:
    with app.app_context():
        found = db.session.scalar(select(Message.id).where(Message.body == body))
        assert found is not None, body
        return int(found)


def quote_in(page: Page, body: str) -> Locator:
    """The quote shown above the reply whose text is `body`."""
    return message_item(page, body).locator("button.quote")


def open_dm(tab: Tab, live_server: str, dm: int) -> None:
    tab.page.goto(f"{live_server}/c/{dm}")
    expect(tab.page.locator("li.message").first).to_be_visible()


def test_a_reply_quotes_its_original_for_both_and_follows_its_edit_and_delete_live(
    app: Flask, live_server: str, sign_in: Callable[..., Tab]
) -> None:
    ana, bob = sign_in("ana"), sign_in("bob")
    dm = seed_direct(app, "bob", "ana", [("bob", "Dinner at eight?"), ("bob", "Or nine")])
    for tab in (ana, bob):
        open_dm(tab, live_server, dm)

    hover_action(message_item(ana.page, "Dinner at eight?"), "Reply").click()
    bar = ana.page.locator("#reply-bar")
    expect(bar).to_be_visible()
    expect(bar.locator("#reply-quote")).to_have_text("Replying to bob: Dinner at eight?")
    expect(composer(ana.page)).to_be_focused()
    composer(ana.page).fill("Eight works")
    composer(ana.page).press("Enter")
    expect(bar).to_be_hidden()
    for tab in (ana, bob):
        quote = quote_in(tab.page, "Eight works")
        expect(quote).to_have_text("bob Dinner at eight?")
        expect(quote).to_have_accessible_name(
            "In reply to bob: Dinner at eight?. Show that message"
        )

    original = id_of(app, "Dinner at eight?")
    with app.app_context():
        messages.edit_message(user_named("bob"), original, "Dinner at *half past* eight?")
    for tab in (ana, bob):
        expect(quote_in(tab.page, "Eight works")).to_have_text("bob Dinner at half past eight?")
    with app.app_context():
        messages.delete_message(user_named("bob"), original)
    for tab in (ana, bob):
        quote = quote_in(tab.page, "Eight works")
        expect(quote).to_have_text("bob message deleted")
        expect(quote).to_have_class(re.compile(r"\bgone\b"))
    ana.page.reload()
    expect(quote_in(ana.page, "Eight works")).to_have_text("bob message deleted")
    for tab in (ana, bob):
        tab.assert_clean()


def test_with_the_keyboard_the_quote_goes_back_through_older_pages_and_reply_and_escape_work(
    app: Flask, live_server: str, sign_in: Callable[..., Tab], make_user: Callable[..., User]
) -> None:
    make_user("bob")
    tab = sign_in("ana")
    page = tab.page
    # Mine, so read: the first view loads only the newest page.
    dm = seed_direct(app, "ana", "bob", [("ana", f"line {n}") for n in range(1, 131)])
    with app.app_context():
        messages.send_message(user_named("bob"), dm, "about line 3", reply_to=id_of(app, "line 3"))
    open_dm(tab, live_server, dm)
    # The first view holds the newest page only: line 3 is far behind it.
    expect(message_item(page, "line 3")).to_have_count(0)

    composer(page).focus()
    newest = message_item(page, "about line 3")
    # Back from the composer, past Attach and the newest message's own buttons, to the message.
    stops = []
    for _ in range(6):
        page.keyboard.press("Shift+Tab")
        stops.append(
            page.evaluate(
                "document.activeElement.dataset.action || document.activeElement.id"
                " || document.activeElement.tagName"
            )
        )
        if stops[-1] == "LI":
            break
    assert stops == ["attach-button", "reply", "react", "quote", "LI"], stops
    expect(newest).to_be_focused()
    page.keyboard.press("Tab")
    expect(newest.locator("button.quote")).to_be_focused()
    page.keyboard.press("Enter")
    target = message_item(page, "line 3")
    expect(target).to_be_focused()
    expect(target).to_be_in_viewport()
    expect(target).to_have_class(re.compile(r"\btarget\b"))

    # Reply to it from there, with the keyboard alone.
    page.keyboard.press("Tab")
    expect(target.get_by_role("button", name="React")).to_be_focused()
    page.keyboard.press("Tab")
    expect(target.get_by_role("button", name="Reply")).to_be_focused()
    page.keyboard.press("Enter")
    expect(composer(page)).to_be_focused()
    expect(page.locator("#reply-quote")).to_have_text("Replying to ana: line 3")
    # Escape lets go of it; nothing was sent.
    page.keyboard.press("Escape")
    expect(page.locator("#reply-bar")).to_be_hidden()
    expect(composer(page)).to_have_value("")
    # Back to line 3 (still the history's stop; far back, it is in a window with the way
    # down below it: Attach, "Jump to the newest", "Load newer messages", Delete, Edit, then
    # Reply, back from the composer), and this time send the answer.
    expect(page.get_by_role("button", name="Load newer messages")).to_be_visible()
    for _ in range(6):
        page.keyboard.press("Shift+Tab")
    expect(target.get_by_role("button", name="Reply")).to_be_focused()
    page.keyboard.press("Enter")
    page.keyboard.type("third line it is")
    page.keyboard.press("Enter")
    expect(quote_in(page, "third line it is")).to_have_text("ana line 3")
    # Confirmed by the server (a send on its way shows its quote too).
    expect(message_item(page, "third line it is")).to_have_attribute("data-id", re.compile(r"\d"))
    with app.app_context():
        sent = db.session.scalar(select(Message).where(Message.body == "third line it is"))
        assert sent is not None and sent.reply_to_id == id_of(app, "line 3")
    tab.assert_clean()


def test_on_a_phone_in_dark_mode_reply_is_in_the_menu_and_the_bar_fits(
    app: Flask, live_server: str, sign_in: Callable[..., Tab], make_user: Callable[..., User]
) -> None:
    make_user("bob")
    tab = sign_in("ana", viewport=PHONE, color_scheme="dark", touch=True)
    page = tab.page
    long_line = "A rather long question about the plans for the weekend trip " * 3
    dm = seed_direct(app, "ana", "bob", [("bob", long_line.strip())])
    open_dm(tab, live_server, dm)
    item = message_item(page, long_line.strip())
    item.get_by_role("button", name="Message actions").tap()
    item.get_by_role("button", name="Reply").tap()
    bar = page.locator("#reply-bar")
    expect(bar).to_be_visible()
    box = bar.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box
    assert_no_horizontal_scroll(page, PHONE["width"])
    page.get_by_role("button", name="Cancel reply").tap()
    expect(bar).to_be_hidden()
    # Deleted while I answer it: the bar goes, and says why.
    item.get_by_role("button", name="Message actions").tap()
    item.get_by_role("button", name="Reply").tap()
    expect(bar).to_be_visible()
    with app.app_context():
        messages.delete_message(user_named("bob"), id_of(app, long_line.strip()))
    expect(bar).to_be_hidden()
    tab.assert_clean()
