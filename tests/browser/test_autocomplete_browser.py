"""@ autocomplete in the composer, in Chromium: the members to mention pop up above the box, by
keyboard, mouse and tap; what it inserts the server makes a mention of; on a phone in dark mode.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Locator, Page, expect

from hubbub.models import User
from hubbub.services import accounts, conversations
from tests.browser.conftest import PHONE, Tab
from tests.browser.test_chat_browser import composer, heading
from tests.browser.test_history_browser import user_named

pytestmark = pytest.mark.browser

# What the page's own scripts would have done with an Escape that reached them.
COUNT_ESCAPES = """
window.escapesSeen = 0;
document.addEventListener("keydown", (e) => { if (e.key === "Escape") window.escapesSeen += 1; });
"""


def options_list(page: Page) -> Locator:
    return page.get_by_role("listbox", name="People to mention")


def options(page: Page) -> Locator:
    return options_list(page).get_by_role("option")


def handles(page: Page) -> Locator:
    return options_list(page).locator(".mention-handle")


def assert_active(page: Page, handle: str) -> None:
    """One option is selected, it is the one named, and the box points at it."""
    selected = options_list(page).locator("[role=option][aria-selected=true]")
    expect(selected).to_have_count(1)
    expect(selected.locator(".mention-handle")).to_have_text(handle)
    expect(composer(page)).to_have_attribute("aria-activedescendant", selected.get_attribute("id"))


def assert_closed(page: Page) -> None:
    expect(options_list(page)).to_be_hidden()
    expect(composer(page)).to_have_attribute("aria-expanded", "false")
    expect(composer(page)).not_to_have_attribute("aria-activedescendant", re.compile(".*"))


def caret(page: Page) -> int:
    return int(composer(page).evaluate("box => box.selectionStart"))


def sent(page: Page) -> Locator:
    return page.locator("li.message:not(.pending)")


def seed_group(app: Flask, owner: str, others: list[str], title: str) -> int:
    with app.app_context():
        ids = [user_named(name).id for name in others]
        return int(conversations.create_group(user_named(owner), title, ids).id)


def name_them(app: Flask, names: dict[str, str]) -> None:
    with app.app_context():
        for username, display_name in names.items():
            accounts.update_profile(user_named(username), display_name)


def open_conversation(page: Page, base: str, conversation_id: int, title: str) -> None:
    page.goto(f"{base}/c/{conversation_id}")
    expect(heading(page)).to_have_text(title)
    expect(composer(page)).to_be_focused()


@pytest.fixture
def trip(
    app: Flask, live_server: str, sign_in: Callable[..., Tab], make_user: Callable[..., User]
) -> Callable[..., tuple[Tab, int]]:
    """ana, signed in, in the group "Trip" with bob, cara and dan ("Caroline <b>Dan</b>")."""

    def factory(**options: Any) -> tuple[Tab, int]:
        tab = sign_in("ana", **options)
        for name in ("bob", "cara", "dan"):
            make_user(name)
        name_them(app, {"dan": "Caroline <b>Dan</b>", "ana": "Ana Lima"})
        group = seed_group(app, "ana", ["bob", "cara", "dan"], "Trip")
        open_conversation(tab.page, live_server, group, "Trip")
        return tab, group

    return factory


def test_typing_at_ca_offers_cara_first_and_enter_inserts_a_mention_the_server_makes(
    trip: Callable[..., tuple[Tab, int]], app: Flask
) -> None:
    tab, _ = trip()
    page = tab.page
    box = composer(page)
    expect(box).to_have_attribute("aria-autocomplete", "list")
    expect(box).to_have_attribute("aria-controls", "mention-options")
    assert_closed(page)

    box.press_sequentially("hi @ca")
    # Username matches before display-name matches; bob does not match, and I am never offered.
    expect(handles(page)).to_have_text(["@cara", "@dan"])
    expect(options(page).locator(".mention-name")).to_have_text(["cara", "Caroline <b>Dan</b>"])
    expect(options_list(page).locator("b")).to_have_count(0)  # a name is text, never markup
    # Each option is named by its name and its handle (the avatar is hidden from readers).
    expect(options(page).first).to_have_accessible_name("cara @cara")
    expect(box).to_have_attribute("aria-expanded", "true")
    assert_active(page, "@cara")
    # Down and Up move the choice, wrapping at both ends; the caret stays where it was.
    box.press("ArrowDown")
    assert_active(page, "@dan")
    box.press("ArrowDown")
    assert_active(page, "@cara")
    box.press("ArrowUp")
    assert_active(page, "@dan")
    box.press("ArrowUp")
    assert_active(page, "@cara")
    assert caret(page) == len("hi @ca")
    # Typing on narrows the list, keeping the choice; Enter inserts it and sends nothing.
    box.press("ArrowDown")
    box.press("r")
    expect(handles(page)).to_have_text(["@cara", "@dan"])  # "Caroline" starts with "car"
    assert_active(page, "@dan")
    box.press("a")
    expect(handles(page)).to_have_text(["@cara"])
    assert_active(page, "@cara")
    box.press("Enter")
    expect(box).to_have_value("hi @cara ")
    assert caret(page) == len("hi @cara ")
    assert_closed(page)
    expect(sent(page)).to_have_count(0)

    box.press_sequentially("see you")
    with page.expect_response(
        lambda r: r.request.method == "POST" and r.url.endswith("/messages")
    ) as answer:
        box.press("Enter")
    with app.app_context():
        cara_id = user_named("cara").id
    assert answer.value.json()["message"]["mentions"] == [cara_id]
    mention = sent(page).locator(".body.rich span.mention")
    expect(mention).to_have_text("@cara")
    expect(mention).to_have_attribute("data-user-id", str(cara_id))
    tab.assert_clean()


def test_escape_closes_the_list_and_does_nothing_else(
    trip: Callable[..., tuple[Tab, int]],
) -> None:
    tab, _ = trip()
    page = tab.page
    page.evaluate(COUNT_ESCAPES)
    box = composer(page)
    box.press_sequentially("@b")
    expect(handles(page)).to_have_text(["@bob"])
    box.press("Escape")
    assert_closed(page)
    expect(box).to_have_value("@b")
    expect(box).to_be_focused()
    assert page.evaluate("window.escapesSeen") == 0  # the list took it; nothing else saw it
    expect(sent(page)).to_have_count(0)
    # It stays closed while the caret moves about; typing again opens it.
    box.press("ArrowLeft")
    box.press("End")
    assert_closed(page)
    box.press("o")
    expect(handles(page)).to_have_text(["@bob"])
    # An Escape with the list closed is the page's again.
    box.press("Escape")
    box.press("Escape")
    assert page.evaluate("window.escapesSeen") == 1
    expect(box).to_have_value("@bo")
    tab.assert_clean()


def test_the_list_follows_the_caret_and_only_where_the_server_reads_a_mention(
    trip: Callable[..., tuple[Tab, int]],
) -> None:
    tab, _ = trip()
    page = tab.page
    box = composer(page)
    # After a letter it is an address, not a mention.
    box.press_sequentially("mail ana@c")
    assert_closed(page)
    box.fill("")
    box.press_sequentially("(@c")
    expect(handles(page)).to_have_text(["@cara", "@dan"])
    # The caret leaving the fragment closes the list; coming back opens it again.
    box.press("Home")
    assert_closed(page)
    box.press("End")
    expect(handles(page)).to_have_text(["@cara", "@dan"])
    box.press(" ")
    assert_closed(page)
    # Chosen from inside a name, the rest of the name is replaced too.
    box.fill("@bxx tomorrow")
    box.evaluate("b => b.setSelectionRange(2, 2)")
    expect(handles(page)).to_have_text(["@bob"])
    box.press("Tab")
    expect(box).to_have_value("@bob tomorrow")
    expect(box).to_be_focused()
    # Leaving the box closes the list.
    box.fill("")
    box.press_sequentially("@")
    expect(options(page)).to_have_count(4)
    page.get_by_role("button", name="Send").focus()
    assert_closed(page)
    tab.assert_clean()


def test_at_all_is_offered_in_a_group_but_not_in_a_dm(
    trip: Callable[..., tuple[Tab, int]], app: Flask, live_server: str
) -> None:
    tab, _ = trip()
    page = tab.page
    box = composer(page)
    box.press_sequentially("@")
    expect(handles(page)).to_have_text(["@bob", "@cara", "@dan", "@all"])
    everyone = options(page).filter(has_text="@all")
    expect(everyone.locator(".mention-name")).to_have_text("everyone in this group")
    box.press("a")
    expect(handles(page)).to_have_text(["@all"])
    # A click chooses too, and keeps the focus in the box.
    everyone.click()
    expect(box).to_have_value("@all ")
    expect(box).to_be_focused()
    assert_closed(page)
    box.press("Enter")
    expect(sent(page).locator("span.mention.everyone")).to_have_text("@all")

    with app.app_context():
        dm, _ = conversations.open_direct(user_named("ana"), user_named("bob").id)
        dm_id = int(dm.id)
    open_conversation(page, live_server, dm_id, "bob")
    box.press_sequentially("@")
    expect(handles(page)).to_have_text(["@bob"])
    box.press("a")
    assert_closed(page)
    tab.assert_clean()


def test_a_mention_by_keyboard_alone_and_up_still_edits_the_last_message(
    trip: Callable[..., tuple[Tab, int]],
) -> None:
    tab, _ = trip()
    page = tab.page
    box = composer(page)
    page.keyboard.type("Lunch?")
    page.keyboard.press("Enter")
    expect(sent(page)).to_have_count(1)
    # Up in a list that is open moves in the list, even on a second line, and edits nothing.
    page.keyboard.press("Shift+Enter")
    expect(box).to_have_value("\n")
    page.keyboard.type("@")
    page.keyboard.press("ArrowUp")
    assert_active(page, "@all")
    expect(page.get_by_role("textbox", name="Edit message")).to_have_count(0)
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    assert_active(page, "@cara")
    page.keyboard.press("Tab")
    expect(box).to_be_focused()
    page.keyboard.type("and ")
    page.keyboard.type("@d")
    page.keyboard.press("Enter")
    expect(box).to_have_value("\n@cara and @dan ")
    page.keyboard.press("Enter")
    expect(sent(page)).to_have_count(2)
    expect(sent(page).nth(1).locator("span.mention")).to_have_text(["@cara", "@dan"])
    expect(box).to_have_value("")
    # With the list closed, Up in the empty box edits my last message as before.
    page.keyboard.press("ArrowUp")
    expect(page.get_by_role("textbox", name="Edit message")).to_be_focused()
    tab.assert_clean()


def test_on_a_phone_in_dark_mode_the_list_is_on_screen_and_a_tap_chooses(
    trip: Callable[..., tuple[Tab, int]],
) -> None:
    tab, _ = trip(viewport=PHONE, color_scheme="dark", touch=True)
    page = tab.page
    box = composer(page)
    box.press_sequentially("@")
    listbox = options_list(page)
    expect(options(page)).to_have_count(4)
    found = listbox.bounding_box()
    assert found is not None
    assert found["x"] >= 0 and found["x"] + found["width"] <= PHONE["width"], found
    assert found["y"] >= 0 and found["y"] + found["height"] <= PHONE["height"], found
    # Above the box, not over it.
    typed = box.bounding_box()
    assert typed is not None
    assert found["y"] + found["height"] <= typed["y"], (found, typed)
    # Drawn in the dark scheme's colours: light text on a dark surface.
    colours = listbox.evaluate(
        "l => [getComputedStyle(l).backgroundColor, getComputedStyle(l).color]"
    )
    assert colours == ["rgb(29, 33, 30)", "rgb(230, 235, 231)"], colours
    # Rows a fingertip can hit, and a tap chooses.
    row = options(page).filter(has_text="@cara")
    row_box = row.bounding_box()
    assert row_box is not None and row_box["height"] >= 44, row_box
    row.tap()
    expect(box).to_have_value("@cara ")
    assert_closed(page)
    tab.assert_clean()
