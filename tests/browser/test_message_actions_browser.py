"""Message actions as people reach them: behind "⋯" on a touch screen, where a tap to read
moves nothing and never lands on Delete; and with the keyboard, one Tab stop for the history."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from hubbub.models import Message, User, db
from tests.browser.conftest import DESKTOP, PHONE, Tab
from tests.browser.test_history_browser import message_item as item
from tests.browser.test_history_browser import seed_direct

pytestmark = pytest.mark.browser


# Where focus is: "outside" the history, or the focused element's action (or tag) and the text
# of the message it is in.
FOCUSED_STOP = """() => {
  const e = document.activeElement;
  if (!e.closest("#messages")) return "outside";
  const text = e.closest("li")?.innerText.split("\\n").find((t) => t.startsWith("line"));
  return `${e.dataset.action || e.tagName}:${text || ""}`;
}"""


def live_messages(app: Flask) -> int:
    with app.app_context():
        return int(
            db.session.scalar(
                select(func.count()).select_from(Message).where(Message.deleted_at.is_(None))
            )
        )


def boxes(page: Page) -> list[dict[str, float]]:
    return list(
        page.eval_on_selector_all(
            "li.message",
            "items => items.map(i => { const r = i.getBoundingClientRect();"
            " return {x: r.x, y: r.y, w: r.width, h: r.height}; })",
        )
    )


def overlaps(a: dict[str, float], b: dict[str, float]) -> bool:
    return not (
        a["x"] + a["width"] <= b["x"]
        or b["x"] + b["width"] <= a["x"]
        or a["y"] + a["height"] <= b["y"]
        or b["y"] + b["height"] <= a["y"]
    )


def element_at(page: Page, box: dict[str, float]) -> str:
    """What a tap at the middle of box would land on."""
    return str(
        page.evaluate(
            "([x, y]) => { const e = document.elementFromPoint(x, y);"
            " return e.dataset.action || e.className || e.tagName; }",
            [box["x"] + box["width"] / 2, box["y"] + box["height"] / 2],
        )
    )


def test_on_a_phone_a_tap_moves_nothing_and_delete_waits_behind_a_menu(
    app: Flask, live_server: str, sign_in: Callable[..., Tab], make_user: Callable[..., User]
) -> None:
    make_user("bob")
    tab = sign_in("ana", viewport=PHONE, color_scheme="dark", touch=True)
    page = tab.page
    lines = [("bob", "Are we on for Friday?"), ("ana", "Yes, at noon"), ("ana", "Bring the plans")]
    dm = seed_direct(app, "ana", "bob", lines)
    page.goto(f"{live_server}/c/{dm}")
    mine = item(page, "Yes, at noon")
    expect(mine).to_be_visible()
    assert page.evaluate("matchMedia('(hover: none)').matches"), "not a touch screen"
    before = boxes(page)

    # Two taps on the text, as someone reading does: nothing moves, nothing opens.
    mine.locator(".body").tap()
    mine.locator(".body").tap()
    assert boxes(page) == before, "a tap on a message moved the history"
    expect(page.get_by_role("dialog", name="Delete message?")).to_be_hidden()
    expect(mine.get_by_role("button", name="Delete")).to_be_hidden()

    # "⋯" opens the menu over the history; the list stays where it was.
    more = mine.get_by_role("button", name="Message actions")
    expect(more).to_be_visible()
    more_box = more.bounding_box()
    assert more_box
    more.tap()
    expect(more).to_have_attribute("aria-expanded", "true")
    delete = mine.get_by_role("button", name="Delete")
    expect(delete).to_be_visible()
    expect(mine.get_by_role("button", name="Edit", exact=True)).to_be_visible()
    assert boxes(page) == before, "opening the menu moved the history"
    # A second tap where the first one landed finds the button again, not Delete.
    assert element_at(page, more_box) == "more", element_at(page, more_box)
    # The menu opens below the button, or above it near the bottom; either way Edit is the
    # item nearest the finger and Delete the farthest.
    delete_box = delete.bounding_box()
    edit_box = mine.get_by_role("button", name="Edit", exact=True).bounding_box()
    assert delete_box and edit_box

    def distance(box: dict[str, float]) -> float:
        return abs(box["y"] + box["height"] / 2 - (more_box["y"] + more_box["height"] / 2))

    assert distance(edit_box) < distance(delete_box), (more_box, edit_box, delete_box)
    assert not overlaps(delete_box, more_box), (more_box, delete_box)

    # Delete still asks; Cancel keeps the message.
    delete.tap()
    dialog = page.get_by_role("dialog", name="Delete message?")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Cancel").tap()
    expect(dialog).to_be_hidden()
    assert live_messages(app) == 3

    # A tap elsewhere closes the menu.
    more.tap()
    expect(delete).to_be_visible()
    item(page, "Are we on for Friday?").locator(".body").tap()
    expect(delete).to_be_hidden()
    expect(more).to_have_attribute("aria-expanded", "false")
    tab.assert_clean()


def test_the_history_is_one_tab_stop_and_arrows_move_between_messages(
    app: Flask, live_server: str, sign_in: Callable[..., Tab], make_user: Callable[..., User]
) -> None:
    make_user("bob")
    tab = sign_in("ana", viewport=DESKTOP)
    page = tab.page
    lines = [("ana" if n % 2 else "bob", f"line {n}") for n in range(1, 42)]
    dm = seed_direct(app, "ana", "bob", lines)
    page.goto(f"{live_server}/c/{dm}")
    expect(page.locator("li.message")).to_have_count(41)
    composer = page.get_by_role("textbox", name="Message", exact=True)
    expect(composer).to_be_focused()

    # Backwards from the composer to the search box: the history is the newest message and
    # its own four buttons, not React, Reply, Edit and Delete of all forty-one messages.
    stops: list[str] = []
    for _ in range(15):
        page.keyboard.press("Shift+Tab")
        stops.append(str(page.evaluate(FOCUSED_STOP)))
        if stops[-1] == "outside" and len(stops) > 1:
            break
    inside = [s for s in stops if s != "outside"]
    assert inside == [
        "delete:line 41",
        "edit:line 41",
        "reply:line 41",
        "react:line 41",
        "LI:line 41",
    ], stops

    # Arrows from the focused message.
    newest = item(page, "line 41")
    keyboard = page.keyboard
    keyboard.press("Tab")  # back into the history: the newest message
    expect(newest).to_be_focused()
    keyboard.press("ArrowDown")
    expect(newest).to_be_focused()
    keyboard.press("ArrowUp")
    keyboard.press("ArrowUp")
    expect(item(page, "line 39")).to_be_focused()
    keyboard.press("Home")
    expect(item(page, "line 1")).to_be_focused()
    expect(item(page, "line 1")).to_be_in_viewport()
    keyboard.press("End")
    expect(newest).to_be_focused()
    # The Tab stop follows: leaving and coming back lands on the message last focused.
    keyboard.press("ArrowUp")
    composer.focus()
    keyboard.press("Shift+Tab")  # Attach files, beside the box
    keyboard.press("Shift+Tab")  # the last of line 40's own buttons
    expect(item(page, "line 40").get_by_role("button", name="Reply")).to_be_focused()
    tab.assert_clean()


def test_on_a_touch_screen_enter_makes_a_new_line_and_send_sends(
    app: Flask, live_server: str, sign_in: Callable[..., Tab], make_user: Callable[..., User]
) -> None:
    make_user("bob")
    tab = sign_in("ana", viewport=PHONE, color_scheme="dark", touch=True)
    page = tab.page
    dm = seed_direct(app, "ana", "bob", [])
    page.goto(f"{live_server}/c/{dm}")
    box = page.get_by_role("textbox", name="Message", exact=True)
    box.tap()
    page.keyboard.type("first line")
    page.keyboard.press("Enter")
    page.keyboard.type("second line")
    expect(box).to_have_value("first line\nsecond line")
    assert live_messages(app) == 0
    expect(page.locator("#composer-hint")).to_have_text(
        "Enter starts a new line; the Send button sends."
    )
    page.get_by_role("button", name="Send").tap()
    sent = item(page, "first line\nsecond line")
    expect(sent).to_be_visible()
    expect(sent).not_to_have_class(re.compile(r"\bpending\b"))
    expect(box).to_have_value("")
    assert live_messages(app) == 1
    tab.assert_clean()
