"""Reactions in Chromium: picked with the keyboard alone and seen live by the other person,
added to and taken back from a chip, kept over a reload; the picker's keys, and the picker on a
phone in dark mode, reached through the "⋯" menu."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from playwright.sync_api import Locator, Page, Route, expect

from hubbub.models import User
from tests.browser.conftest import PHONE, Tab
from tests.browser.test_history_browser import message_item, seed_direct, tab_until

pytestmark = pytest.mark.browser

THUMBS_UP = "👍"


def picker(page: Page) -> Locator:
    return page.get_by_role("dialog", name="Choose a reaction")


def search(page: Page) -> Locator:
    return picker(page).get_by_role("searchbox", name="Search emoji by name")


def emoji_button(page: Page, name: str) -> Locator:
    return picker(page).get_by_role("button", name=name, exact=True)


def chip(item: Locator, emoji: str) -> Locator:
    return item.locator(f'button.reaction[data-emoji="{emoji}"]')


def assert_chip(item: Locator, emoji: str, count: int, *, mine: bool, who: str) -> None:
    """The chip shows the count, is pressed when mine is in it, and names who reacted."""
    found = chip(item, emoji)
    expect(found.locator(".reaction-count")).to_have_text(str(count))
    expect(found).to_have_attribute("aria-pressed", "true" if mine else "false")
    expect(found).to_have_attribute("data-who", f"{who} reacted with {emoji}")
    expect(found).to_have_accessible_name(f"{emoji} {count}: {who}")


def focused_name(page: Page) -> str:
    return str(
        page.evaluate(
            "() => document.activeElement.getAttribute('aria-label')"
            " || document.activeElement.textContent"
        )
    )


def test_a_reaction_picked_with_the_keyboard_is_seen_live_taken_back_and_kept(
    app: Flask, live_server: str, sign_in: Callable[..., Tab]
) -> None:
    ana = sign_in("ana")
    bob = sign_in("bob")
    dm = seed_direct(app, "bob", "ana", [("bob", "Lunch at noon?")])
    for tab in (ana, bob):
        tab.page.goto(f"{live_server}/c/{dm}")
        expect(message_item(tab.page, "Lunch at noon?")).to_be_visible()
    page = ana.page
    lunch = message_item(page, "Lunch at noon?")
    react = lunch.get_by_role("button", name="React")

    # From the composer back into the history, to the message, then forward to its React.
    tab_until(page, lunch, key="Shift+Tab")
    page.keyboard.press("Tab")
    expect(react).to_be_focused()
    page.keyboard.press("Enter")
    expect(picker(page)).to_be_visible()
    expect(search(page)).to_be_focused()
    page.keyboard.type("thumbs")
    # Word matches, the common one first; nothing else holds "thumbs".
    expect(picker(page).locator("button.picker-emoji")).to_have_count(2)
    expect(emoji_button(page, "thumbs up")).to_be_visible()
    page.keyboard.press("ArrowDown")
    expect(emoji_button(page, "thumbs up")).to_be_focused()
    page.keyboard.press("Enter")
    expect(picker(page)).to_be_hidden()
    expect(react).to_be_focused()
    assert_chip(lunch, THUMBS_UP, 1, mine=True, who="you")

    # Bob sees it live, and adds his with a click on the chip; Ana sees 2 live.
    bob_lunch = message_item(bob.page, "Lunch at noon?")
    assert_chip(bob_lunch, THUMBS_UP, 1, mine=False, who="ana")
    chip(bob_lunch, THUMBS_UP).click()
    assert_chip(bob_lunch, THUMBS_UP, 2, mine=True, who="ana and you")
    assert_chip(lunch, THUMBS_UP, 2, mine=True, who="you and bob")

    # Focused from the keyboard, the chip shows who reacted, as on hover; Enter on it takes
    # Ana's back, for both.
    tab_until(page, chip(lunch, THUMBS_UP))
    shown = chip(lunch, THUMBS_UP).evaluate("c => getComputedStyle(c, '::after').content")
    assert shown == '"you and bob reacted with 👍"', shown
    page.keyboard.press("Enter")
    assert_chip(lunch, THUMBS_UP, 1, mine=False, who="bob")
    assert_chip(bob_lunch, THUMBS_UP, 1, mine=True, who="you")
    expect(chip(lunch, THUMBS_UP)).to_be_focused()

    for tab in (ana, bob):
        tab.page.reload()
    assert_chip(message_item(page, "Lunch at noon?"), THUMBS_UP, 1, mine=False, who="bob")
    assert_chip(message_item(bob.page, "Lunch at noon?"), THUMBS_UP, 1, mine=True, who="you")
    ana.assert_clean()
    bob.assert_clean()


def test_the_pickers_keys_and_its_common_emoji_before_the_list_arrives(
    app: Flask, live_server: str, sign_in: Callable[..., Tab], make_user: Callable[..., User]
) -> None:
    make_user("bob")
    tab = sign_in("ana")
    page = tab.page
    held: list[Route] = []
    page.route("**/emoji.json", lambda route: held.append(route))  # let through later
    dm = seed_direct(app, "bob", "ana", [("bob", "Shipped it")])
    page.goto(f"{live_server}/c/{dm}")
    shipped = message_item(page, "Shipped it")
    react = shipped.get_by_role("button", name="React")
    shipped.hover()
    with page.expect_request("**/emoji.json"):  # asked for on the first open, not before
        react.click()
    expect(picker(page)).to_be_visible()
    expect(search(page)).to_be_focused()
    expect(picker(page).get_by_role("group", name="Common reactions")).to_be_visible()
    expect(picker(page).locator("button.picker-emoji")).to_have_count(24)

    # Typing filters the common ones while the list is away.
    page.keyboard.type("fire")
    expect(picker(page).locator("button.picker-emoji")).to_have_count(1)
    expect(emoji_button(page, "fire")).to_be_visible()
    search(page).fill("")
    expect(picker(page).locator("button.picker-emoji")).to_have_count(24)

    # Arrows: by one sideways, by a row (eight here) up and down, and up out to the search.
    keys = page.keyboard
    keys.press("ArrowDown")
    expect(emoji_button(page, "thumbs up")).to_be_focused()
    keys.press("ArrowRight")
    expect(emoji_button(page, "red heart")).to_be_focused()
    keys.press("ArrowDown")
    expect(emoji_button(page, "check mark button")).to_be_focused()
    keys.press("ArrowLeft")
    expect(emoji_button(page, "fire")).to_be_focused()
    keys.press("ArrowUp")
    expect(emoji_button(page, "thumbs up")).to_be_focused()
    keys.press("ArrowUp")
    expect(search(page)).to_be_focused()

    # Tab goes between the search and the grid's focused emoji and stays in the picker.
    keys.press("ArrowDown")
    keys.press("ArrowRight")
    keys.press("Tab")
    expect(search(page)).to_be_focused()
    keys.press("Tab")
    expect(emoji_button(page, "red heart")).to_be_focused()
    keys.press("Shift+Tab")
    expect(search(page)).to_be_focused()
    keys.press("Shift+Tab")
    expect(emoji_button(page, "red heart")).to_be_focused()
    # A letter typed in the grid goes on with the search.
    keys.type("ro")
    expect(search(page)).to_be_focused()
    expect(search(page)).to_have_value("ro")
    expect(emoji_button(page, "rocket")).to_be_visible()

    # Escape closes it and gives focus back to React; a click elsewhere closes it too.
    keys.press("Escape")
    expect(picker(page)).to_be_hidden()
    expect(react).to_be_focused()
    keys.press("Enter")
    expect(picker(page)).to_be_visible()
    expect(search(page)).to_have_value("")
    page.get_by_role("heading", level=1).click()
    expect(picker(page)).to_be_hidden()

    # Once the list is in, everything can be found by name, and Space picks too.
    react.click()
    held[0].continue_()
    keys.type("penguin")
    expect(picker(page).get_by_role("group", name="Search results")).to_be_visible()
    expect(emoji_button(page, "penguin")).to_be_visible()
    keys.press("ArrowDown")
    keys.press("Space")
    expect(picker(page)).to_be_hidden()
    assert_chip(shipped, "🐧", 1, mine=True, who="you")
    # A name nothing has says so.
    react.click()
    keys.type("zzzz")
    expect(picker(page).get_by_role("status")).to_have_text("No emoji named “zzzz”.")
    expect(picker(page).locator("button.picker-emoji")).to_have_count(0)
    tab.assert_clean()


def inside(box: dict[str, float], viewport: dict[str, int]) -> bool:
    return (
        box["x"] >= 0
        and box["y"] >= 0
        and box["x"] + box["width"] <= viewport["width"]
        and box["y"] + box["height"] <= viewport["height"]
    )


def test_on_a_phone_in_dark_mode_the_picker_opens_from_the_menu_and_fits(
    app: Flask, live_server: str, sign_in: Callable[..., Tab], make_user: Callable[..., User]
) -> None:
    make_user("bob")
    tab = sign_in("ana", viewport=PHONE, color_scheme="dark", touch=True)
    page = tab.page
    lines = [("bob", f"Note {n}") for n in range(1, 5)]
    dm = seed_direct(app, "bob", "ana", lines)
    page.goto(f"{live_server}/c/{dm}")
    assert page.evaluate("matchMedia('(hover: none)').matches"), "not a touch screen"
    assert page.evaluate("matchMedia('(prefers-color-scheme: dark)').matches")

    for body in ("Note 4", "Note 1"):  # the newest, near the composer; and the oldest, higher
        item = message_item(page, body)
        more = item.get_by_role("button", name="Message actions")
        more.tap()
        item.get_by_role("button", name="React").tap()
        expect(picker(page)).to_be_visible()
        # Beside the "⋯" it came from, not over it, once the menu holding React has closed
        # (the picker moves there on the next frame).
        page.wait_for_function(
            """([picker, more]) => {
              const p = picker.getBoundingClientRect(), m = more.getBoundingClientRect();
              return p.top >= m.bottom || p.bottom <= m.top;
            }""",
            arg=[picker(page).element_handle(), more.element_handle()],
            timeout=5000,
        )
        box = picker(page).bounding_box()
        assert box and inside(box, PHONE), box
        # Cells a fingertip can hit.
        cell = emoji_button(page, "thumbs up").bounding_box()
        assert cell and cell["width"] >= 44 and cell["height"] >= 44, cell
        emoji_button(page, "thumbs up").tap()
        expect(picker(page)).to_be_hidden()
        assert_chip(item, THUMBS_UP, 1, mine=True, who="you")
        # The React button is in the closed menu: focus goes back to the "⋯" that opened it.
        expect(more).to_be_focused()
    tab.assert_clean()
