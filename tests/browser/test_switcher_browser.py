"""Ctrl+K: switching conversations with the keyboard alone."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from flask import Flask
from playwright.sync_api import expect
from sqlalchemy import select

from hubbub.models import User, db
from hubbub.services import conversations, messages
from tests.browser.conftest import Tab

pytestmark = pytest.mark.browser


def seed(app: Flask) -> dict[str, int]:
    """ana's DMs with bob and cara, and the group Lunch club; cara's DM has news for her."""
    with app.app_context():
        people = {u.username: u for u in db.session.scalars(select(User))}
        ana = people["ana"]
        bob_dm, _ = conversations.open_direct(ana, people["bob"].id)
        cara_dm, _ = conversations.open_direct(ana, people["cara"].id)
        group = conversations.create_group(ana, "Lunch club", [people["bob"].id])
        messages.send_message(people["cara"], cara_dm.id, "are you there?")
        return {"bob": bob_dm.id, "cara": cara_dm.id, "Lunch club": group.id}


def test_ctrl_k_finds_a_conversation_by_a_piece_of_its_name_and_opens_it(
    app: Flask, live_server: str, sign_in: Callable[..., Tab], make_user: Callable[..., User]
) -> None:
    make_user("bob")
    make_user("cara")
    tab = sign_in("ana")
    page = tab.page
    ids = seed(app)
    page.goto(f"{live_server}/c/{ids['bob']}")
    composer = page.get_by_role("textbox", name="Message", exact=True)
    expect(composer).to_be_focused()

    page.keyboard.press("Control+k")
    dialog = page.get_by_role("dialog", name="Switch conversation")
    expect(dialog).to_be_visible()
    box = dialog.get_by_role("combobox", name="Conversation name")
    expect(box).to_be_focused()
    options = dialog.get_by_role("option")
    # Nothing typed: every conversation, the one with news first.
    expect(options).to_have_count(3)
    expect(options.first).to_contain_text("cara")
    expect(options.first).to_have_attribute("aria-selected", "true")

    page.keyboard.type("LUN")
    # The match, then the way to search the messages for it (tests/browser/test_search_browser).
    expect(options).to_have_count(2)
    expect(options.first).to_have_text("Lunch club")
    expect(options.last).to_have_text("Search messages for “LUN”")
    expect(box).to_have_attribute("aria-activedescendant", f"switcher-option-{ids['Lunch club']}")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/c/{ids['Lunch club']}$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Lunch club")

    # Arrows move the choice (and wrap); Escape closes and gives focus back.
    page.get_by_role("textbox", name="Message", exact=True).focus()
    page.keyboard.press("Control+k")
    expect(box).to_be_focused()
    page.keyboard.press("ArrowUp")
    expect(options.last).to_have_attribute("aria-selected", "true")
    page.keyboard.press("ArrowDown")
    expect(options.first).to_have_attribute("aria-selected", "true")
    page.keyboard.type("zzz")
    expect(options).to_have_count(1)
    expect(options.first).to_have_text("Search messages for “zzz”")
    expect(dialog).to_contain_text("No conversation by that name.")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(page.get_by_role("textbox", name="Message", exact=True)).to_be_focused()
    tab.assert_clean()


def test_ctrl_k_works_on_the_dashboard_too(
    app: Flask, sign_in: Callable[..., Tab], make_user: Callable[..., User]
) -> None:
    make_user("bob")
    make_user("cara")
    tab = sign_in("ana")
    page = tab.page
    ids = seed(app)
    page.reload()
    sidebar = page.get_by_role("navigation", name="Your conversations")
    expect(sidebar.get_by_role("link")).to_have_count(3)
    page.keyboard.press("Control+k")
    page.keyboard.type("bo")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/c/{ids['bob']}$"))
    tab.assert_clean()
