"""Markdown in the chat page, in Chromium: two people live, after a reload, on a phone in dark
mode. What the server rendered is what both see; everything else stays text."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.browser.conftest import PHONE, Tab
from tests.browser.test_chat_browser import composer, create_group, open_entry

pytestmark = pytest.mark.browser

FORMATTED = (
    "Plan for **Friday**, @bob:\n"
    "1. read *chapter 2*\n"
    "2. see https://example.com/books?list=autumn\n\n"
    "> ~~too long~~ fine\n\n"
    "Run `make test` first. <b>not bold</b>"
)


def item(page: Page, starts: str) -> Locator:
    """The delivered message whose rendered text starts with `starts`."""
    return page.locator("li.message:not(.pending)").filter(
        has=page.locator(".body.rich", has_text=re.compile("^" + re.escape(starts)))
    )


def assert_rendered(message: Locator, mentioned_id: int) -> None:
    body = message.locator(".body.rich")
    expect(body.locator("strong")).to_have_text("Friday")
    expect(body.locator("ol > li")).to_have_count(2)
    expect(body.locator("ol em")).to_have_text("chapter 2")
    link = body.get_by_role("link", name="https://example.com/books?list=autumn")
    expect(link).to_have_attribute("href", "https://example.com/books?list=autumn")
    expect(link).to_have_attribute("target", "_blank")
    expect(link).to_have_attribute("rel", "noopener noreferrer")
    expect(body.locator("blockquote s")).to_have_text("too long")
    expect(body.locator("code")).to_have_text("make test")
    mention = body.locator("span.mention")
    expect(mention).to_have_text("@bob")
    expect(mention).to_have_attribute("data-user-id", str(mentioned_id))
    # Raw HTML stays text: no <b> came of it.
    expect(body.locator("b")).to_have_count(0)
    expect(body).to_contain_text("<b>not bold</b>")


def user_id(page: Page) -> int:
    return int(
        page.evaluate("JSON.parse(document.getElementById('chat-app').dataset.settings).me.id")
    )


@pytest.mark.parametrize("where", ["desktop", "phone-dark"])
def test_markdown_is_rendered_for_both_live_after_an_edit_and_after_a_reload(
    sign_in: Callable[..., Tab], where: str
) -> None:
    phone = where == "phone-dark"
    options = {"viewport": PHONE, "color_scheme": "dark", "touch": True} if phone else {}
    ana = sign_in("ana", **options)
    bob = sign_in("bob", **options)
    create_group(ana.page, "Book club", ["bob"])
    open_entry(bob.page, "Book club")
    bob_id = user_id(bob.page)

    # Written in the composer (Shift+Enter for the line breaks on a desktop; on a touch screen
    # Enter is a new line and the Send button sends).
    box = composer(ana.page)
    box.fill(FORMATTED)
    if phone:
        ana.page.get_by_role("button", name="Send").click()
    else:
        box.press("Enter")
    for page in (ana.page, bob.page):
        assert_rendered(item(page, "Plan for Friday"), bob_id)

    # An edit is rendered again, live, and "(edited)" follows the text on its line.
    sent = item(ana.page, "Plan for Friday")
    message_id = sent.get_attribute("data-id")
    box.focus()
    box.press("ArrowUp")
    editor = ana.page.get_by_role("textbox", name="Edit message")
    expect(editor).to_have_value(FORMATTED)
    editor.fill("Now _only_ this")
    editor.press("Enter")
    for page in (ana.page, bob.page):
        edited = page.locator(f'li.message[data-id="{message_id}"]')
        expect(edited.locator(".body.rich em")).to_have_text("only")
        assert_edited_on_the_last_line(edited)

    for tab in (ana, bob):
        tab.page.reload()
        edited = tab.page.locator(f'li.message[data-id="{message_id}"]')
        expect(edited.locator(".body.rich")).to_have_text("Now only this")
        expect(edited.locator(".body.rich em")).to_have_text("only")
        assert_edited_on_the_last_line(edited)
        tab.assert_clean()


def assert_edited_on_the_last_line(message: Locator) -> None:
    """ "(edited)" follows the last words of a rendered body, on their line."""
    mark = message.get_by_role("button", name="(edited) show earlier versions")
    expect(mark).to_be_visible()
    words = message.locator(".body.rich > p").last.bounding_box()
    box = mark.bounding_box()
    assert words and box, (words, box)
    assert abs((box["y"] + box["height"] / 2) - (words["y"] + words["height"] / 2)) < 6, (
        words,
        box,
    )
    assert box["x"] >= words["x"] + words["width"] - 1, (words, box)


def test_the_list_previews_the_words_and_counts_mentions_and_they_stand_out(
    sign_in: Callable[..., Tab],
) -> None:
    ana = sign_in("ana")
    bob = sign_in("bob")
    create_group(ana.page, "Book club", ["bob"])
    box = composer(ana.page)
    box.fill("See [the agenda](https://docs.example/agenda) **now**")
    box.press("Enter")
    sidebar = bob.page.get_by_role("navigation", name="Your conversations")
    expect(sidebar.locator(".preview")).to_have_text("ana: See the agenda now")
    # A message that names me: the badge says so, and so does the entry's name.
    box.fill("@bob can you bring it?")
    box.press("Enter")
    entry = sidebar.get_by_role("link", name="Book club, 2 unread messages, 1 mention")
    expect(entry.locator(".badge")).to_have_text("@ 2")
    entry.click()
    mine = bob.page.locator("li.message.mentions-me")
    expect(mine).to_have_count(1)
    expect(mine.locator(".mention.me")).to_have_text("@bob")
    expect(bob.page.locator("li.message:not(.mentions-me)")).to_have_count(1)
    ana.assert_clean()
    bob.assert_clean()
