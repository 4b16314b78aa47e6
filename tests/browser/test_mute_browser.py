"""Mute in Chromium: one person's two windows, the header's button, the quiet badge that still
moves the conversation up, and the tab's title that leaves muted ones out."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import expect

from hubbub.services import conversations, messages
from tests.browser.conftest import DESKTOP, PHONE, Tab, log_in_through_the_form
from tests.browser.test_accounts_browser import assert_no_horizontal_scroll
from tests.browser.test_chat_browser import entry
from tests.browser.test_history_browser import user_named

pytestmark = pytest.mark.browser


@pytest.fixture
def live_server(app: Flask, serve: Callable[[Flask], str]) -> str:
    """Serve the test's own app, so that what the test sends through the services reaches the
    open pages at once."""
    return serve(app)


@pytest.mark.parametrize("where", ["desktop", "phone-dark"])
def test_muting_in_one_window_quiets_the_other_live_and_survives_a_reload(
    app: Flask,
    live_server: str,
    sign_in: Callable[..., Tab],
    open_tab: Callable[..., Tab],
    make_user: Callable[..., Any],
    where: str,
) -> None:
    phone = where == "phone-dark"
    options: dict[str, Any] = (
        {"viewport": PHONE, "color_scheme": "dark", "has_touch": True, "is_mobile": True}
        if phone
        else {"viewport": DESKTOP}
    )
    make_user("bob")
    make_user("cara")
    first = sign_in(
        "ana", **({"viewport": PHONE, "color_scheme": "dark", "touch": True} if phone else {})
    )
    second = open_tab("ana-2", **options)
    log_in_through_the_form(second.page, live_server, "ana")
    with app.app_context():
        bob = user_named("bob")
        noisy = conversations.create_group(bob, "Noisy", [user_named("ana").id]).id
        quiet = conversations.create_group(bob, "Quiet", [user_named("ana").id]).id

    page = first.page
    page.goto(f"{live_server}/c/{noisy}")
    button = page.locator("#mute-button")
    expect(button).to_have_text("Mute")
    expect(button).to_have_attribute("aria-pressed", "false")
    if phone:
        button.tap()
        assert_no_horizontal_scroll(page, PHONE["width"])
    else:
        button.click()
    expect(button).to_have_text("Muted")
    expect(button).to_have_attribute("aria-pressed", "true")
    # Away from it, so that what comes next stays unread.
    page.goto(f"{live_server}/dashboard")
    expect(entry(page, "Noisy")).to_have_accessible_name(re.compile(r"^Noisy, muted\b"))

    # The other window hears of it: the entry says muted, its badge is quiet, and the tab's
    # title counts only the unmuted conversation's messages.
    other = second.page
    noisy_entry = entry(other, "Noisy")
    expect(noisy_entry).to_have_accessible_name(re.compile(r"^Noisy, muted\b"))
    with app.app_context():
        messages.send_message(user_named("bob"), noisy, "lots of chatter")
        messages.send_message(user_named("bob"), noisy, "and more")
        messages.send_message(user_named("bob"), quiet, "one that matters")
    expect(noisy_entry).to_have_accessible_name(re.compile(r"^Noisy, 2 unread messages, muted\b"))
    expect(other.locator("#conversation-list > li.muted")).to_have_count(1)
    badge = other.locator("#conversation-list > li.muted .badge")
    expect(badge).to_have_text("2")
    # Quiet: an outline, not the filled green of an unmuted badge.
    assert badge.evaluate("b => getComputedStyle(b).backgroundColor") == "rgba(0, 0, 0, 0)"
    expect(other).to_have_title(re.compile(r"^\(1\) "))
    # It still moves up with its messages, as any conversation does.
    names = other.locator("#conversation-list .name")
    expect(names).to_have_text(["Quiet", "Noisy"])

    # Back in it (which reads it), still muted; unmuted from the keyboard, and the other
    # window follows.
    page.goto(f"{live_server}/c/{noisy}")
    expect(button).to_have_text("Muted")
    expect(noisy_entry).to_have_accessible_name(re.compile(r"^Noisy, muted$"))
    button.focus()
    page.keyboard.press("Enter")
    expect(button).to_have_text("Mute")
    expect(noisy_entry).to_have_accessible_name("Noisy")
    expect(other).to_have_title(re.compile(r"^\(1\) "))
    first.assert_clean()
    second.assert_clean()
